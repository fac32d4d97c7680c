#include "filter/datapath/dnsproxy/answer_builder.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>

// clang-format off
#include <stdbool.h>  // before ldns: see CONVENTIONS section 10
#include <ldns/ldns.h>
// clang-format on

#include "filter/datapath/dnsproxy/dns_message.h"

namespace egressguard::dnsproxy {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

std::string status_text(ldns_status status) {
  return ldns_get_errorstr_by_id(status) != nullptr ? ldns_get_errorstr_by_id(status)
                                                    : "ldns error";
}

Result<std::vector<std::uint8_t>, std::string> to_wire(ldns_pkt* pkt) {
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  const ldns_status status = ldns_pkt2wire(&wire, pkt, &size);
  if (status != LDNS_STATUS_OK) {
    return fail("cannot encode the answer: " + status_text(status));
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

ldns_rdf* int32_rdf(std::uint32_t value) {
  return ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, value);
}

// RFC 2308 section 3: the SOA whose minimum bounds negative caching of a made-up answer.
ldns_rr* negative_soa(const ldns_rdf* owner, std::uint32_t ttl) {
  ldns_rr* soa = ldns_rr_new();
  ldns_rr_set_owner(soa, ldns_rdf_clone(owner));
  ldns_rr_set_type(soa, LDNS_RR_TYPE_SOA);
  ldns_rr_set_class(soa, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(soa, ttl);
  ldns_rr_push_rdf(soa, ldns_dname_new_frm_str("egressguard.invalid."));
  ldns_rr_push_rdf(soa, ldns_dname_new_frm_str("hostmaster.egressguard.invalid."));
  ldns_rr_push_rdf(soa, int32_rdf(1));      // serial
  ldns_rr_push_rdf(soa, int32_rdf(3600));   // refresh
  ldns_rr_push_rdf(soa, int32_rdf(600));    // retry
  ldns_rr_push_rdf(soa, int32_rdf(86400));  // expire
  ldns_rr_push_rdf(soa, int32_rdf(ttl));    // minimum
  return soa;
}

}  // namespace

std::vector<std::uint8_t> encode_ede_option(const ExtendedError& ede) {
  const std::size_t length = 2 + ede.extra_text.size();
  std::vector<std::uint8_t> out;
  out.reserve(4 + length);
  out.push_back(static_cast<std::uint8_t>(kEdnsOptionEde >> 8));
  out.push_back(static_cast<std::uint8_t>(kEdnsOptionEde & 0xffU));
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xffU));
  out.push_back(static_cast<std::uint8_t>(ede.info_code >> 8));
  out.push_back(static_cast<std::uint8_t>(ede.info_code & 0xffU));
  out.insert(out.end(), ede.extra_text.begin(), ede.extra_text.end());
  return out;
}

std::vector<std::uint8_t> header_only_answer(ByteSpan query, std::uint8_t rcode) {
  std::vector<std::uint8_t> out(kDnsHeaderSize, 0);
  if (query.size() >= 2) {
    out[0] = query[0];
    out[1] = query[1];
  }
  const std::uint8_t flags1 = query.size() >= 3 ? query[2] : 0;
  out[2] = static_cast<std::uint8_t>(0x80U | (flags1 & 0x79U));  // QR, keep opcode and RD
  out[3] = static_cast<std::uint8_t>(0x80U | (rcode & 0x0fU));   // RA
  return out;
}

Result<std::vector<std::uint8_t>, std::string> build_answer(ByteSpan query,
                                                            const AnswerOptions& options,
                                                            bool question) {
  if (query.size() < kDnsHeaderSize) {
    return fail(std::string("query shorter than a DNS header"));
  }
  ldns_rr* question_rr = nullptr;
  if (question) {
    // The question exactly as the client sent it (its bytes, case and all): read by ldns from
    // the wire rather than rebuilt from the dotted name, which is ambiguous for odd labels.
    ldns_pkt* parsed = nullptr;
    const ldns_status status = ldns_wire2pkt(&parsed, query.data(), query.size());
    if (status != LDNS_STATUS_OK) {
      return fail("cannot read the query: " + status_text(status));
    }
    PktPtr query_pkt(parsed);
    if (ldns_pkt_qdcount(parsed) != 1) {
      return fail(std::string("the query has no single question"));
    }
    question_rr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(parsed), 0));
  }
  PktPtr pkt(ldns_pkt_new());
  ldns_pkt* p = pkt.get();
  ldns_pkt_set_id(p, static_cast<std::uint16_t>((query[0] << 8) | query[1]));
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_opcode(p, static_cast<ldns_pkt_opcode>((query[2] >> 3) & 0x0fU));
  ldns_pkt_set_rd(p, (query[2] & 0x01U) != 0);
  ldns_pkt_set_cd(p, (query[3] & 0x10U) != 0);
  ldns_pkt_set_ra(p, true);
  ldns_pkt_set_tc(p, options.truncated);
  ldns_pkt_set_rcode(p, options.rcode);
  if (question_rr != nullptr) {
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, question_rr);
    const ldns_rr_type qtype = ldns_rr_get_type(question_rr);
    const ldns_rr_class qclass = ldns_rr_get_class(question_rr);
    const ldns_rdf* owner = ldns_rr_owner(question_rr);
    bool answered = false;
    if (!options.truncated && options.rcode == kRcodeNoError && options.null_address &&
        qclass == LDNS_RR_CLASS_IN && (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA)) {
      ldns_rr* rr = ldns_rr_new();
      ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
      ldns_rr_set_type(rr, qtype);
      ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
      ldns_rr_set_ttl(rr, options.ttl);
      const std::array<std::uint8_t, 16> zeros{};
      ldns_rr_push_rdf(rr, qtype == LDNS_RR_TYPE_A
                               ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, zeros.data())
                               : ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, zeros.data()));
      ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
      answered = true;
    }
    const bool negative =
        options.rcode == kRcodeNxDomain || (options.rcode == kRcodeNoError && !answered);
    if (!options.truncated && negative && options.negative_soa) {
      ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, negative_soa(owner, options.ttl));
    }
  }
  if (options.edns) {
    ldns_pkt_set_edns_udp_size(p, options.udp_payload < 512 ? 512 : options.udp_payload);
    ldns_pkt_set_edns_do(p, options.edns_do);
    if (options.ede) {
      const std::vector<std::uint8_t> option = encode_ede_option(*options.ede);
      ldns_pkt_set_edns_data(
          p, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, option.size(), option.data()));
    }
  }
  return to_wire(p);
}

Result<std::vector<std::uint8_t>, std::string> strip_ech(ByteSpan response) {
  ldns_pkt* parsed = nullptr;
  const ldns_status status = ldns_wire2pkt(&parsed, response.data(), response.size());
  if (status != LDNS_STATUS_OK) {
    return fail("cannot read the answer: " + status_text(status));
  }
  PktPtr pkt(parsed);
  std::vector<std::uint8_t> scratch;
  for (ldns_rr_list* list :
       {ldns_pkt_answer(parsed), ldns_pkt_authority(parsed), ldns_pkt_additional(parsed)}) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      const ldns_rr_type type = ldns_rr_get_type(rr);
      if (type != LDNS_RR_TYPE_SVCB && type != LDNS_RR_TYPE_HTTPS) {
        continue;
      }
      if (ldns_rr_rd_count(rr) < 3) {
        continue;  // AliasMode without params
      }
      // SvcPriority, TargetName, then the SvcParams as one rdf of wire bytes.
      for (std::size_t j = 2; j < ldns_rr_rd_count(rr); ++j) {
        ldns_rdf* params = ldns_rr_rdf(rr, j);
        const ByteSpan bytes(ldns_rdf_data(params), ldns_rdf_size(params));
        if (!params_have_ech(bytes)) {
          continue;
        }
        scratch.assign(bytes.size(), 0);
        auto size = strip_ech_params(bytes, scratch.data());
        if (!size) {
          return fail(std::string("malformed SvcParams"));
        }
        if (*size == 0 && j + 1 == ldns_rr_rd_count(rr)) {
          ldns_rdf_deep_free(ldns_rr_pop_rdf(rr));  // ech was the only parameter
          break;
        }
        ldns_rdf* replacement =
            ldns_rdf_new_frm_data(ldns_rdf_get_type(params), *size, scratch.data());
        if (replacement == nullptr) {
          return fail(std::string("cannot allocate SvcParams"));
        }
        ldns_rdf_deep_free(ldns_rr_set_rdf(rr, replacement, j));
      }
    }
  }
  return to_wire(parsed);
}

}  // namespace egressguard::dnsproxy
