#include "tests/filter/datapath/firewall/firewall_test_helpers.h"

#include <stdexcept>

#include "filter/parse/ip_address.h"

namespace egressguard::firewall::testing {

namespace {

void put_name(std::vector<std::uint8_t>& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) {
      dot = name.size();
    }
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

void put_u16(std::vector<std::uint8_t>& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xffU));
  out.push_back(static_cast<std::uint8_t>(value & 0xffU));
}

}  // namespace

PolicyFixture::PolicyFixture() {
  dir_.write("tiktok.txt", "# test list\n*.tiktok.com\n*.tiktokcdn.com\n");
  dir_.write("doh.txt", "*.dns.google\ncloudflare-dns.com\n*.dns.google\n");
  dir_.write("exceptions.txt", "newsroom.tiktok.com\n");
}

inspect::PolicySpec PolicyFixture::spec(bool gov_enforces) const {
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
  tiktok.lists.push_back(list("tiktok", dir_.file("tiktok.txt")));
  inspect::CategorySpec doh;
  doh.name = "doh-bypass";
  doh.lists.push_back(list("doh", dir_.file("doh.txt")));
  inspect::CategorySpec exceptions;
  exceptions.name = "exceptions";
  exceptions.lists.push_back(list("local-exceptions", dir_.file("exceptions.txt")));
  s.categories = {tiktok, doh, exceptions};
  auto group = [](std::string name, const std::string& cidr) {
    inspect::GroupSpec g;
    g.name = std::move(name);
    g.members.cidrs.push_back(*inspect::Cidr::parse(cidr));
    return g;
  };
  inspect::GroupSpec gov = group("gov", "10.8.0.0/16");
  gov.block = {"tiktok", "doh-bypass"};
  gov.allow = {"local-exceptions"};
  gov.mode = gov_enforces ? inspect::Mode::Enforce : inspect::Mode::Monitor;
  inspect::GroupSpec byod = group("byod", "10.30.0.0/16");
  inspect::GroupSpec pilot = group("pilot", "10.99.0.0/16");
  pilot.block = {"tiktok"};
  pilot.mode = inspect::Mode::Monitor;
  s.groups = {gov, byod, pilot};
  s.default_group = "gov";
  return s;
}

std::shared_ptr<const inspect::PolicySnapshot> PolicyFixture::build(bool gov_enforces,
                                                                    std::uint64_t version) const {
  auto built = inspect::PolicySnapshot::build(spec(gov_enforces), version);
  if (!built) {
    throw std::runtime_error("policy: " + built.error().front());
  }
  return *built;
}

std::vector<std::uint8_t> make_response(const std::vector<std::uint8_t>& query,
                                        const std::vector<Record>& records) {
  std::vector<std::uint8_t> out(query.begin(), query.end());
  out[2] = static_cast<std::uint8_t>(out[2] | 0x80U);  // QR
  out[3] = 0x80;                                       // RA, NOERROR
  out[6] = 0;
  out[7] = static_cast<std::uint8_t>(records.size());
  for (const Record& r : records) {
    put_name(out, r.owner);
    put_u16(out, r.type);
    put_u16(out, 1);
    put_u16(out, 0);
    put_u16(out, 300);  // TTL
    std::vector<std::uint8_t> rdata;
    if (r.type == 5) {
      put_name(rdata, r.value);
    } else {
      const parse::IpAddress ip = *parse::IpAddress::parse(r.value);
      rdata.assign(ip.bytes.begin(), ip.bytes.begin() + (ip.is_v4() ? 4 : 16));
    }
    put_u16(out, rdata.size());
    out.insert(out.end(), rdata.begin(), rdata.end());
  }
  return out;
}

Result<void, std::string> FakeBackend::run(const std::string& commands) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->commands.push_back(commands);
  if (state_->fail) {
    return fail(std::string("Error: No such file or directory"));
  }
  return {};
}

bool FakeBackend::table_exists() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  ++state_->table_checks;
  return state_->table;
}

}  // namespace egressguard::firewall::testing
