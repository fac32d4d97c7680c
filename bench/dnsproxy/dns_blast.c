// dns_blast: an open-loop DNS load generator for the overload benches (bench/dnsproxy/). dnsperf
// keeps state per query and tops out near 75 k queries/s on one core of the reference machine,
// so it cannot offer twice what one proxy core answers. This sends pre-encoded queries (from a
// dnsperf query file: "name TYPE" lines, A or AAAA) at a fixed rate with sendmmsg over several
// UDP sockets, counts the answers by RCODE with recvmmsg, and keeps no per-query state: the
// figures are rates, not latencies.
//
// Usage: dns_blast -s ADDR -p PORT -d FILE -Q RATE -l SECONDS [-c SOCKETS] [-w DRAIN_SECONDS] [-n]
// -n: never read the answers (they are dropped by the kernel once the small receive buffer is
// full): sending is then all this process does, so one core offers about twice as much; count
// the answers on the server side instead.
// Prints one line per second on stderr ("t sent answered servfail") and at the end, on stdout,
// "key value" lines: behind (queries due that this generator could not send in time), sent,
// send_dropped, answered, noerror, nxdomain, servfail, other,
// seconds, sent_per_s, answered_per_s.
//
// Compiled on first use by the bench scripts: cc -O2 -o dns_blast dns_blast.c (C99, Linux).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBatch = 64, kMaxSockets = 64, kMaxQuery = 300 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Encodes "name" as a query for `type` into out; returns its length or 0.
static size_t encode(const char* name, uint16_t type, uint16_t id, uint8_t* out) {
  size_t n = 0;
  out[n++] = (uint8_t)(id >> 8);
  out[n++] = (uint8_t)id;
  out[n++] = 0x01;  // RD
  out[n++] = 0x00;
  out[n++] = 0;
  out[n++] = 1;  // QDCOUNT
  memset(out + n, 0, 6);
  n += 6;
  const char* p = name;
  while (*p) {
    const char* dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (len == 0 || len > 63 || n + len + 6 > kMaxQuery)
      return 0;
    out[n++] = (uint8_t)len;
    memcpy(out + n, p, len);
    n += len;
    p += len;
    if (*p == '.')
      p++;
  }
  out[n++] = 0;
  out[n++] = (uint8_t)(type >> 8);
  out[n++] = (uint8_t)type;
  out[n++] = 0;
  out[n++] = 1;  // IN
  return n;
}

int main(int argc, char** argv) {
  const char* addr = "127.0.0.1";
  int port = 53, sockets = 16;
  const char* file = NULL;
  double rate = 10000, seconds = 10, drain = 1;
  int opt, no_read = 0;
  while ((opt = getopt(argc, argv, "s:p:d:Q:l:c:w:n")) != -1) {
    switch (opt) {
      case 's':
        addr = optarg;
        break;
      case 'p':
        port = atoi(optarg);
        break;
      case 'd':
        file = optarg;
        break;
      case 'Q':
        rate = atof(optarg);
        break;
      case 'l':
        seconds = atof(optarg);
        break;
      case 'c':
        sockets = atoi(optarg);
        break;
      case 'w':
        drain = atof(optarg);
        break;
      case 'n':
        no_read = 1;
        break;
      default:
        fprintf(stderr,
                "usage: dns_blast -s ADDR -p PORT -d FILE -Q RATE -l SECONDS [-c N] [-w S]\n");
        return 2;
    }
  }
  if (!file || sockets < 1 || sockets > kMaxSockets || rate <= 0) {
    fprintf(stderr, "dns_blast: -d FILE, -Q RATE > 0 and 1 <= -c <= %d needed\n", kMaxSockets);
    return 2;
  }

  // Queries: every line of the file, encoded once (IDs vary with the slot).
  FILE* f = fopen(file, "r");
  if (!f) {
    fprintf(stderr, "dns_blast: %s: %s\n", file, strerror(errno));
    return 2;
  }
  size_t cap = 1 << 16, count = 0;
  uint8_t* wire = malloc(cap * kMaxQuery);
  uint16_t* lens = malloc(cap * sizeof(uint16_t));
  char line[512], name[300], type[16];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%299s %15s", name, type) != 2)
      continue;
    uint16_t t = strcmp(type, "AAAA") == 0 ? 28 : 1;
    if (count == cap) {
      cap *= 2;
      wire = realloc(wire, cap * kMaxQuery);
      lens = realloc(lens, cap * sizeof(uint16_t));
    }
    size_t n = encode(name, t, (uint16_t)count, wire + count * kMaxQuery);
    if (n)
      lens[count++] = (uint16_t)n;
  }
  fclose(f);
  if (count == 0) {
    fprintf(stderr, "dns_blast: no queries in %s\n", file);
    return 2;
  }

  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
    fprintf(stderr, "dns_blast: bad address %s\n", addr);
    return 2;
  }
  int fds[kMaxSockets];
  for (int i = 0; i < sockets; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = no_read ? 4096 : 8 << 20;
    if (setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) {
      setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    }
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr*)&to, sizeof to) != 0) {
      fprintf(stderr, "dns_blast: socket: %s\n", strerror(errno));
      return 2;
    }
  }

  struct mmsghdr out[kBatch], in[kBatch];
  struct iovec out_iov[kBatch], in_iov[kBatch];
  static uint8_t in_buf[kBatch][1500];
  for (int i = 0; i < kBatch; i++) {
    memset(&in[i], 0, sizeof in[i]);
    in_iov[i].iov_base = in_buf[i];
    in_iov[i].iov_len = sizeof in_buf[i];
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
    memset(&out[i], 0, sizeof out[i]);
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t sent = 0, dropped = 0, behind = 0, answered = 0, rc[16] = {0}, next = 0;
  uint64_t last_sent = 0, last_answered = 0, last_servfail = 0;
  const double start = now_s();
  double last_report = start;
  int sock = 0;
  for (;;) {
    const double t = now_s();
    const double elapsed = t - start;
    if (elapsed >= seconds + drain)
      break;
    int idle = 1;
    if (elapsed < seconds) {
      const uint64_t due = (uint64_t)(rate * elapsed);
      // More than 50 ms behind: this generator cannot keep up; skip (counted in `behind`).
      const uint64_t slack = (uint64_t)(rate * 0.05) + kBatch;
      if (due > sent + dropped + behind + slack)
        behind = due - sent - dropped - slack;
      for (int b = 0; b < 8 && sent + dropped + behind < due; b++) {
        uint64_t want = due - sent - dropped - behind;
        int n = want > kBatch ? kBatch : (int)want;
        for (int i = 0; i < n; i++) {
          uint64_t q = (next + (uint64_t)i) % count;
          uint8_t* w = wire + q * kMaxQuery;
          uint16_t id = (uint16_t)((next + (uint64_t)i) * 40503u);
          w[0] = (uint8_t)(id >> 8);
          w[1] = (uint8_t)id;
          out_iov[i].iov_base = w;
          out_iov[i].iov_len = lens[q];
        }
        int r = sendmmsg(fds[sock], out, (unsigned)n, MSG_DONTWAIT);
        sock = (sock + 1) % sockets;
        if (r < 0) {
          // Full socket buffer: these queries are not offered; count them and move on.
          dropped += (uint64_t)n;
          next += (uint64_t)n;
          break;
        }
        sent += (uint64_t)r;
        next += (uint64_t)r;
        if (r < n) {
          dropped += (uint64_t)(n - r);
          next += (uint64_t)(n - r);
        }
        idle = 0;
      }
    }
    for (int s = 0; s < sockets && !no_read; s++) {
      int r = recvmmsg(fds[s], in, kBatch, MSG_DONTWAIT, NULL);
      if (r > 0) {
        idle = 0;
        for (int i = 0; i < r; i++) {
          if (in[i].msg_len >= 4) {
            answered++;
            rc[in_buf[i][3] & 0x0f]++;
          }
        }
      }
    }
    if (t - last_report >= 1.0) {
      fprintf(stderr, "%.0f %llu %llu %llu\n", elapsed, (unsigned long long)(sent - last_sent),
              (unsigned long long)(answered - last_answered),
              (unsigned long long)(rc[2] - last_servfail));
      last_report = t;
      last_sent = sent;
      last_answered = answered;
      last_servfail = rc[2];
    }
    if (idle) {
      struct timespec ts = {0, 20000};
      nanosleep(&ts, NULL);
    }
  }
  const uint64_t other = answered - rc[0] - rc[2] - rc[3];
  printf("behind %llu\n", (unsigned long long)behind);
  printf("sent %llu\nsend_dropped %llu\nanswered %llu\nnoerror %llu\nnxdomain %llu\n",
         (unsigned long long)sent, (unsigned long long)dropped, (unsigned long long)answered,
         (unsigned long long)rc[0], (unsigned long long)rc[3]);
  printf("servfail %llu\nother %llu\nseconds %.1f\nsent_per_s %.0f\nanswered_per_s %.0f\n",
         (unsigned long long)rc[2], (unsigned long long)other, seconds, (double)sent / seconds,
         (double)answered / seconds);
  return 0;
}
