#include "tests/filter/datapath/dnsproxy/dns_test_helpers.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

// clang-format off
#include <stdbool.h>  // before ldns: see CONVENTIONS section 10
#include <ldns/ldns.h>
// clang-format on

namespace egressguard::dnsproxy::testing {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xffU));
}

std::string squeeze(const std::string& text) {
  std::istringstream in(text);
  std::string word;
  std::string out;
  while (in >> word) {
    out += out.empty() ? "" : " ";
    out += word;
  }
  return out;
}

std::string rr_text(const ldns_rr* rr) {
  char* s = ldns_rr2str(rr);
  std::string out = s != nullptr ? squeeze(s) : "";
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

}  // namespace

std::vector<std::uint8_t> make_query(const QuerySpec& spec) {
  std::vector<std::uint8_t> out;
  put16(out, spec.id);
  out.push_back(spec.rd ? 0x01 : 0x00);
  out.push_back(0x00);
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, spec.edns ? 1 : 0);
  std::string_view name = spec.name;
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  out.push_back(0);
  put16(out, spec.qtype);
  put16(out, 1);
  if (spec.edns) {
    out.push_back(0);  // root owner
    put16(out, 41);
    put16(out, spec.udp_size);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);  // no options
  }
  return out;
}

ParsedAnswer parse_answer(ByteSpan wire) {
  ParsedAnswer out;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) {
    return out;
  }
  out.ok = true;
  out.id = ldns_pkt_id(pkt);
  out.qr = ldns_pkt_qr(pkt);
  out.tc = ldns_pkt_tc(pkt);
  out.ra = ldns_pkt_ra(pkt);
  out.rd = ldns_pkt_rd(pkt);
  out.rcode = static_cast<std::uint8_t>(ldns_pkt_get_rcode(pkt));
  if (ldns_pkt_qdcount(pkt) > 0) {
    const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    char* name = ldns_rdf2str(ldns_rr_owner(q));
    out.qname = name != nullptr ? name : "";
    std::free(name);  // NOLINT(cppcoreguidelines-no-malloc)
    out.qtype = static_cast<std::uint16_t>(ldns_rr_get_type(q));
  }
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt)); ++i) {
    out.answers.push_back(rr_text(ldns_rr_list_rr(ldns_pkt_answer(pkt), i)));
  }
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_authority(pkt)); ++i) {
    out.authority.push_back(rr_text(ldns_rr_list_rr(ldns_pkt_authority(pkt), i)));
  }
  out.opt = ldns_pkt_edns(pkt);
  out.opt_udp = ldns_pkt_edns_udp_size(pkt);
  if (const ldns_rdf* data = ldns_pkt_edns_data(pkt)) {
    const std::uint8_t* p = ldns_rdf_data(data);
    const std::size_t size = ldns_rdf_size(data);
    out.edns_data.assign(p, p + size);
    std::size_t at = 0;
    while (at + 4 <= size) {
      const auto code = static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
      const auto length = static_cast<std::size_t>((p[at + 2] << 8) | p[at + 3]);
      if (at + 4 + length > size) {
        break;
      }
      if (code == 15 && length >= 2) {
        out.ede = static_cast<std::uint16_t>((p[at + 4] << 8) | p[at + 5]);
        out.ede_text.assign(reinterpret_cast<const char*>(p + at + 6), length - 2);
      }
      at += 4 + length;
    }
  }
  ldns_pkt_free(pkt);
  return out;
}

std::vector<std::uint8_t> make_response(ByteSpan query, const std::vector<std::string>& records,
                                        std::uint8_t rcode, bool tc,
                                        const std::vector<std::uint8_t>& edns_data) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, query.data(), query.size()) != LDNS_STATUS_OK) {
    throw std::runtime_error("make_response: bad query");
  }
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_ra(pkt, true);
  ldns_pkt_set_tc(pkt, tc);
  ldns_pkt_set_rcode(pkt, rcode);
  ldns_pkt_set_edns_data(pkt, nullptr);
  if (!edns_data.empty()) {
    ldns_pkt_set_edns_data(
        pkt, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, edns_data.size(), edns_data.data()));
  }
  for (const std::string& text : records) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      ldns_pkt_free(pkt);
      throw std::runtime_error("make_response: bad record " + text);
    }
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  const ldns_status status = ldns_pkt2wire(&wire, pkt, &size);
  ldns_pkt_free(pkt);
  if (status != LDNS_STATUS_OK) {
    throw std::runtime_error("make_response: cannot encode");
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

PolicyFixture::PolicyFixture() {
  dir_.write("tiktok.txt", "# test list\n*.tiktok.com\n*.tiktokcdn.com\n");
  dir_.write("exceptions.txt", "newsroom.tiktok.com\n");
}

inspect::PolicySpec PolicyFixture::spec() const {
  auto list = [](std::string name, std::string path) {
    inspect::ListSpec l;
    l.name = std::move(name);
    l.path = std::move(path);
    l.options.format = domains::ListFormat::Plain;
    return l;
  };
  inspect::PolicySpec s;
  inspect::CategorySpec tiktok;
  tiktok.name = "tiktok";
  tiktok.jurisdiction = "CN";
  tiktok.lists.push_back(list("tiktok", dir_.file("tiktok.txt")));
  inspect::CategorySpec exceptions;
  exceptions.name = "exceptions";
  exceptions.lists.push_back(list("local-exceptions", dir_.file("exceptions.txt")));
  s.categories = {tiktok, exceptions};
  auto group = [](std::string name, std::vector<std::string> cidrs) {
    inspect::GroupSpec g;
    g.name = std::move(name);
    for (const auto& c : cidrs) {
      g.members.cidrs.push_back(*inspect::Cidr::parse(c));
    }
    return g;
  };
  inspect::GroupSpec gov = group("gov", {"10.8.0.0/16", "fd00:8::/64", "127.0.0.8/32", "::8/128"});
  gov.block = {"tiktok"};
  gov.allow = {"local-exceptions"};
  inspect::GroupSpec byod = group("byod", {"10.30.0.0/16", "127.0.0.30/32"});
  inspect::GroupSpec pilot = group("pilot", {"10.99.0.0/16", "127.0.0.99/32"});
  pilot.block = {"tiktok"};
  pilot.mode = inspect::Mode::Monitor;
  inspect::GroupSpec ech = group("ech", {"10.50.0.0/16", "127.0.0.50/32"});
  ech.block = {"tiktok"};
  ech.strip_ech = true;
  ech.anti_bypass = false;
  s.groups = {gov, byod, pilot, ech};
  s.default_group = "gov";
  return s;
}

std::shared_ptr<const inspect::PolicySnapshot> PolicyFixture::build(std::uint64_t version) const {
  auto built = inspect::PolicySnapshot::build(spec(), version);
  if (!built) {
    throw std::runtime_error("policy: " + built.error().front());
  }
  return *built;
}

}  // namespace egressguard::dnsproxy::testing
