// QUIC CRYPTO stream reassembly: CRYPTO frames of client Initial packets arrive out of order, may
// overlap and span several datagrams (RFC 9000 section 19.6). Their data goes into a
// ReassemblyPool buffer at its stream offset; the message at the start of the stream (a TLS
// ClientHello, or a Google QUIC CHLO for Q050/T05x) is complete once its own header says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/inspect/stream_reassembler.h"
#include "filter/parse/quic_initial.h"

namespace egressguard::inspect {

// Which message the CRYPTO stream starts with.
enum class CryptoMessage : std::uint8_t { TlsClientHello, GoogleChlo };

enum class CryptoLengthError : std::uint8_t {
  NeedMore,  // the message header is not complete yet
  BadStart,  // the stream does not start with the expected message
};

// The total length of the message at the start of `prefix` (header included), from its header:
// TLS handshake type 1 + u24 length (RFC 8446 section 4); CHLO tag, u16 tag count, u16 padding,
// count x (tag, u32 little-endian end offset), values.
Result<std::size_t, CryptoLengthError> crypto_message_length(ByteSpan prefix,
                                                             CryptoMessage kind) noexcept;

// Writes every chunk into `buffer` (offsets are CRYPTO stream offsets from 0). Flags of all
// writes are OR-ed together; chunks beyond the window set `truncated`.
WriteOutcome feed_crypto_chunks(ReassemblyPool& pool, std::uint32_t buffer,
                                std::span<const parse::QuicCryptoChunk> chunks) noexcept;

}  // namespace egressguard::inspect
