// Made-up answers of the DNS proxy, built with ldns (CONVENTIONS section 10): blocked names
// (NXDOMAIN, null address, REFUSED), NODATA, FORMERR/NOTIMP/SERVFAIL, and answers cut down to a
// TC=1 header for UDP clients; plus the HTTPS/SVCB `ech` removal, which re-encodes an upstream
// answer. ldns itself stays inside answer_builder.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::dnsproxy {

// RFC 8914 section 4 info-codes used by the proxy.
inline constexpr std::uint16_t kEdeBlocked = 15;   // a list (operator's blocklist) matched
inline constexpr std::uint16_t kEdeFiltered = 17;  // filtered by policy (anti-bypass)
inline constexpr std::uint16_t kEdeNoReachableAuthority = 22;  // every upstream failed
inline constexpr std::uint16_t kEdnsOptionEde = 15;            // the EDNS0 option code

struct ExtendedError {
  std::uint16_t info_code = 0;
  std::string extra_text;  // UTF-8; names from the network must be sanitised by the caller
};

struct AnswerOptions {
  std::uint8_t rcode = 0;
  bool null_address = false;  // NOERROR with A 0.0.0.0 / AAAA :: (other qtypes: NODATA)
  bool negative_soa = true;   // a SOA in the authority section of NXDOMAIN/NODATA (RFC 2308)
  bool truncated = false;     // TC=1: the client must retry over TCP
  std::uint32_t ttl = 60;     // of the made-up records (and the SOA minimum)
  // EDNS: an OPT record is added only when the query had one (RFC 6891 section 7).
  bool edns = false;
  bool edns_do = false;
  std::uint16_t udp_payload = 1232;
  std::optional<ExtendedError> ede;  // only sent with EDNS
};

// Builds an answer to `query` (whose header and question parse): same ID, RD, CD and question,
// QR and RA set. Only the first 12 bytes are needed when `question` is false (FORMERR for a
// query whose question cannot be read).
Result<std::vector<std::uint8_t>, std::string> build_answer(ByteSpan query,
                                                            const AnswerOptions& options,
                                                            bool question = true);

// A header-only answer without ldns, for when even ldns cannot read the query: ID and RD copied,
// QR set, `rcode`. `query` must hold at least 12 bytes.
std::vector<std::uint8_t> header_only_answer(ByteSpan query, std::uint8_t rcode);

// The EDNS0 option (code 15) of an Extended DNS Error: code, length, info-code, text.
std::vector<std::uint8_t> encode_ede_option(const ExtendedError& ede);

// Re-encodes `response` with the `ech` SvcParam removed from every HTTPS/SVCB record (RDATA and
// RDLENGTH rewritten, names re-compressed, everything else kept, EDNS options included).
Result<std::vector<std::uint8_t>, std::string> strip_ech(ByteSpan response);

}  // namespace egressguard::dnsproxy
