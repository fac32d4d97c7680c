// LineReader: plain and gzip files, line framing, damaged input; input discovery.
#include "filter/logs/line_reader.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/logs/log_files_test_helpers.h"

namespace egressguard::logs {
namespace {

using testing::gzip_bytes;
using testing::TempDir;
using testing::write_file;

struct ReadBack {
  std::vector<std::string> lines;
  std::vector<FileLine> meta;
  std::string error;
  bool gzip = false;
};

ReadBack read_all(const std::string& path) {
  ReadBack r;
  auto reader = LineReader::open(path);
  if (!reader) {
    r.error = reader.error();
    return r;
  }
  r.gzip = (*reader)->gzip();
  FileLine line;
  while ((*reader)->next(line)) {
    r.lines.emplace_back(line.text);
    r.meta.push_back(line);
  }
  r.error = (*reader)->error();
  return r;
}

struct FramingCase {
  const char* description;
  std::string bytes;
  std::vector<std::string> lines;
  bool last_unterminated;
};

class LineReaderFraming : public ::testing::TestWithParam<FramingCase> {};

TEST_P(LineReaderFraming, PlainAndGzipGiveTheSameLines) {
  TempDir dir;
  for (const bool gz : {false, true}) {
    const std::string path = dir.file(gz ? "events.json.1.gz" : "events.json");
    write_file(path, gz ? gzip_bytes(GetParam().bytes) : GetParam().bytes);
    const ReadBack r = read_all(path);
    EXPECT_EQ(r.gzip, gz) << GetParam().description;
    EXPECT_EQ(r.error, "") << GetParam().description;
    EXPECT_EQ(r.lines, GetParam().lines) << GetParam().description << (gz ? " (gzip)" : "");
    if (!r.meta.empty()) {
      EXPECT_EQ(r.meta.back().unterminated, GetParam().last_unterminated);
      EXPECT_EQ(r.meta.back().number, r.lines.size());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LineReaderFraming,
    ::testing::Values(FramingCase{"empty file", "", {}, false},
                      FramingCase{"one line", "a\n", {"a"}, false},
                      FramingCase{"no final newline", "a\nb", {"a", "b"}, true},
                      FramingCase{"CRLF", "a\r\nb\r\n", {"a", "b"}, false},
                      FramingCase{"empty lines kept", "\n\na\n", {"", "", "a"}, false},
                      FramingCase{
                          "lines across buffer refills",
                          std::string(300000, 'x') + "\n" + std::string(700000, 'y') + "\nz\n",
                          {std::string(300000, 'x'), std::string(700000, 'y'), "z"},
                          false}));

TEST(LineReader, SkipsAnOverlongLineAndKeepsCounting) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  write_file(path, "a\n" + std::string(LineReader::kMaxLineBytes + 10, 'x') + "\nb\n" +
                       std::string(LineReader::kMaxLineBytes * 2, 'y'));
  const ReadBack r = read_all(path);
  ASSERT_EQ(r.meta.size(), 4U);
  EXPECT_EQ(r.lines[0], "a");
  EXPECT_TRUE(r.meta[1].too_long);
  EXPECT_EQ(r.lines[1], "");
  EXPECT_EQ(r.lines[2], "b");
  EXPECT_EQ(r.meta[2].number, 3U);
  EXPECT_TRUE(r.meta[3].too_long);
  EXPECT_TRUE(r.meta[3].unterminated);
}

TEST(LineReader, DetectsGzipByMagicNotByName) {
  TempDir dir;
  write_file(dir.file("events.json.2"), gzip_bytes("a\nb\n"));  // rotated, compressed, no .gz
  write_file(dir.file("plain.gz"), "a\nb\n");                   // named .gz, not compressed
  EXPECT_EQ(read_all(dir.file("events.json.2")).lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(read_all(dir.file("events.json.2")).gzip);
  EXPECT_EQ(read_all(dir.file("plain.gz")).lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(read_all(dir.file("plain.gz")).gzip);
}

TEST(LineReader, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  write_file(dir.file("e.gz"), gzip_bytes("a\nb") + gzip_bytes("c\n") + gzip_bytes("d\n"));
  const ReadBack r = read_all(dir.file("e.gz"));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"a", "bc", "d"}));
}

TEST(LineReader, ReportsTruncatedGzipAfterTheLinesItHolds) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "line " + std::to_string(i) + "\n";
  }
  const std::string gz = gzip_bytes(text);
  write_file(dir.file("e.gz"), gz.substr(0, gz.size() / 2));
  const ReadBack r = read_all(dir.file("e.gz"));
  EXPECT_NE(r.error.find("e.gz: gzip: unexpected end of file"), std::string::npos) << r.error;
  ASSERT_GT(r.lines.size(), 100U);
  EXPECT_EQ(r.lines[100], "line 100");
}

TEST(LineReader, ReportsCorruptGzip) {
  TempDir dir;
  std::string gz = gzip_bytes(std::string(5000, 'a') + "\n");
  gz[12] = static_cast<char>(gz[12] ^ 0xff);
  gz[13] = static_cast<char>(gz[13] ^ 0xff);
  write_file(dir.file("bad.gz"), gz);
  const ReadBack r = read_all(dir.file("bad.gz"));
  EXPECT_NE(r.error.find("bad.gz: gzip: "), std::string::npos) << r.error;
}

TEST(LineReader, OpenFailsWithPathAndReason) {
  TempDir dir;
  auto missing = LineReader::open(dir.file("nope.json"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("nope.json: No such file or directory"), std::string::npos);
  auto directory = LineReader::open(dir.path().string());
  ASSERT_FALSE(directory.has_value());
  EXPECT_NE(directory.error().find("is a directory"), std::string::npos);
}

TEST(RotatedSiblings, FindsRotatedAndDatedFilesOnly) {
  TempDir dir;
  for (const char* name :
       {"events.json", "events.json.1", "events.json.2.gz", "events-2026-11-28.json.gz",
        "events.2026-11-27.json", "eventsx.json", "other.json", "events",
        "events.json.20261129T000000Z", "events.json.20261128T000000Z.gz",
        "events.json.20261129T000000Z.gz.tmp"}) {
    write_file(dir.file(name), "");
  }
  const std::vector<std::string> expected = {dir.file("events-2026-11-28.json.gz"),
                                             dir.file("events.2026-11-27.json"),
                                             dir.file("events.json"),
                                             dir.file("events.json.1"),
                                             dir.file("events.json.2.gz"),
                                             dir.file("events.json.20261128T000000Z.gz"),
                                             dir.file("events.json.20261129T000000Z")};
  EXPECT_EQ(rotated_siblings(dir.file("events.json")), expected);
  EXPECT_TRUE(rotated_siblings(dir.file("missing-dir/events.json")).empty());
}

TEST(ExpandInputs, FilesDirectoriesAndGlobs) {
  TempDir dir;
  for (const char* name :
       {"events.json", "events.json.1", "events.json.2.gz", "notes.txt", "events.json.3.gz.tmp"}) {
    write_file(dir.file(name), "");
  }
  std::vector<std::string> errors;
  EXPECT_EQ(expand_inputs({dir.path().string()}, errors),
            (std::vector<std::string>{dir.file("events.json"), dir.file("events.json.1"),
                                      dir.file("events.json.2.gz")}));
  EXPECT_EQ(expand_inputs({dir.file("events.json.*")}, errors),
            (std::vector<std::string>{dir.file("events.json.1"), dir.file("events.json.2.gz")}));
  EXPECT_EQ(expand_inputs({dir.file("notes.txt")}, errors),
            (std::vector<std::string>{dir.file("notes.txt")}));
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(expand_inputs({dir.file("missing.json"), dir.file("*.nothing")}, errors).empty());
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_NE(errors[0].find("missing.json: "), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("*.nothing: no file matches"), std::string::npos) << errors[1];
}

}  // namespace
}  // namespace egressguard::logs
