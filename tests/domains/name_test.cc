#include "domains/name.h"

#include <string>

#include <gtest/gtest.h>

namespace egressguard::domains {
namespace {

struct NormalizeCase {
  const char* description;
  std::string input;
  bool ok;
  std::string expected;  // the name, or describe(error)
  NameError error = NameError::Empty;
};

TEST(NormalizeName, HandlesTable) {
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  // 4 labels of 63 + 3 dots = 255; trim to 253 and 254.
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  const std::string name254 = name253 + "b";
  const NormalizeCase cases[] = {
      {"plain name", "www.tiktok.com", true, "www.tiktok.com"},
      {"upper case folds", "WWW.TikTok.COM", true, "www.tiktok.com"},
      {"one trailing dot stripped", "tiktok.com.", true, "tiktok.com"},
      {"two trailing dots", "tiktok.com..", false, "", NameError::EmptyLabel},
      {"root only", ".", false, "", NameError::Empty},
      {"empty", "", false, "", NameError::Empty},
      {"empty label", "a..b", false, "", NameError::EmptyLabel},
      {"leading dot", ".a.b", false, "", NameError::EmptyLabel},
      {"63-byte label", label63 + ".com", true, label63 + ".com"},
      {"64-byte label", label64 + ".com", false, "", NameError::LabelTooLong},
      {"253 bytes", name253, true, name253},
      {"254 bytes", name254, false, "", NameError::TooLong},
      {"underscore is lenient", "_dns.resolver.arpa", true, "_dns.resolver.arpa"},
      {"star passes", "*.example.com", true, "*.example.com"},
      {"space", "exa mple.com", false, "", NameError::BadCharacter},
      {"control byte", std::string("a\x01.com"), false, "", NameError::BadCharacter},
      {"NUL byte", std::string("a\0b.com", 7), false, "", NameError::BadCharacter},
      {"DEL", "a\x7f.com", false, "", NameError::BadCharacter},
      {"non-ASCII",
       "b\xc3\xbc"
       "cher.de",
       false, "", NameError::BadCharacter},
      {"single label", "localhost", true, "localhost"},
  };
  for (const auto& c : cases) {
    NameBuffer buffer;
    const auto result = normalize_name(c.input, buffer);
    ASSERT_EQ(result.has_value(), c.ok) << c.description;
    if (c.ok) {
      EXPECT_EQ(*result, c.expected) << c.description;
      EXPECT_EQ(result->data(), buffer.data()) << c.description << ": view into the buffer";
    } else {
      EXPECT_EQ(result.error(), c.error) << c.description;
    }
  }
}

TEST(NormalizeName, DescribesEveryError) {
  for (const NameError e : {NameError::Empty, NameError::TooLong, NameError::EmptyLabel,
                            NameError::LabelTooLong, NameError::BadCharacter}) {
    EXPECT_FALSE(describe(e).empty());
  }
  EXPECT_EQ(describe(NameError::LabelTooLong), "label longer than 63 bytes");
}

struct RuleNameCase {
  const char* description;
  std::string input;
  bool ok;
  std::string expected;  // the name or the full message
};

TEST(NormalizeRuleName, HandlesTable) {
  const std::string label63(63, 'a');
  const std::string label64(64, 'x');
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  const RuleNameCase cases[] = {
      {"plain", "tiktok.com", true, "tiktok.com"},
      {"upper case", "TikTok.COM", true, "tiktok.com"},
      {"trailing dot", "tiktok.com.", true, "tiktok.com"},
      {"underscore", "_dns.resolver.arpa", true, "_dns.resolver.arpa"},
      {"digits and hyphen", "a-1.b2.com", true, "a-1.b2.com"},
      {"punycode kept", "xn--bcher-kva.de", true, "xn--bcher-kva.de"},
      {"IDN converted",
       "b\xc3\xbc"
       "cher.de",
       true, "xn--bcher-kva.de"},
      {"IDN upper case",
       "B\xc3\x9c"
       "CHER.DE",
       true, "xn--bcher-kva.de"},
      {"IDN in one label only", "_x.m\xc3\xbcnchen.de", true, "_x.xn--mnchen-3ya.de"},
      {"63-byte label", label63 + ".com", true, label63 + ".com"},
      {"253 bytes", name253, true, name253},
      {"space", "exa mple.com", false, "invalid domain \"exa mple.com\": label contains a space"},
      {"64-byte label", label64 + ".com", false,
       "invalid domain \"" + label64 +
           ".com\": label \"xxxxxxxxxxxxxxxxxxxx\u2026\" is 64 bytes: "
           "a label is at most 63"},
      {"254 bytes", name253 + "b", false,
       "invalid domain \"" + name253 + "b\": name is 254 bytes: a name is at most 253"},
      {"empty", "", false, "invalid domain \"\": empty name"},
      {"only a dot", ".", false, "invalid domain \".\": empty name"},
      {"empty label", "a..b", false, "invalid domain \"a..b\": empty label (two dots in a row)"},
      {"leading dot", ".a.b", false, "invalid domain \".a.b\": name starts with a dot"},
      {"leading hyphen", "-abc.com", false,
       "invalid domain \"-abc.com\": label \"-abc\" starts with a hyphen"},
      {"trailing hyphen", "abc-.com", false,
       "invalid domain \"abc-.com\": label \"abc-\" ends with a hyphen"},
      {"star inside", "a.*.com", false,
       "invalid domain \"a.*.com\": label contains '*': a wildcard is only allowed as a leading "
       "\"*.\""},
      {"slash", "a.com/path", false, "invalid domain \"a.com/path\": label contains '/'"},
      {"control byte escaped", std::string("a\x01.com"), false,
       "invalid domain \"a\\x01.com\": label contains byte 0x01"},
      {"tab", "a\tb.com", false, "invalid domain \"a\\x09b.com\": label contains a tab"},
      {"bad UTF-8", "\xff\xfe.com", false,
       "invalid domain \"\\xff\\xfe.com\": cannot convert label \"\\xff\\xfe\" to punycode: "},
  };
  for (const auto& c : cases) {
    const auto result = normalize_rule_name(c.input);
    ASSERT_EQ(result.has_value(), c.ok)
        << c.description << ": " << (result ? *result : result.error());
    if (c.ok) {
      EXPECT_EQ(*result, c.expected) << c.description;
    } else if (std::string_view(c.description) == "bad UTF-8") {
      // The tail is libidn2's own wording.
      EXPECT_EQ(result.error().substr(0, c.expected.size()), c.expected) << c.description;
    } else {
      EXPECT_EQ(result.error(), c.expected) << c.description;
    }
  }
}

TEST(EscapeForMessage, EscapesQuotesAndBytes) {
  EXPECT_EQ(escape_for_message("a\"b\\c\n\xff"), "a\\\"b\\\\c\\x0a\\xff");
  EXPECT_EQ(escape_for_message("plain.example"), "plain.example");
}

}  // namespace
}  // namespace egressguard::domains
