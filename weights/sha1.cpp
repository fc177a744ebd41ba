#include "weights/sha1.h"

#include <algorithm>
#include <cstring>

namespace animegan::weights {

namespace {

uint32_t rotate_left(uint32_t value, int bits) {
    return (value << bits) | (value >> (32 - bits));
}

std::string to_hex(const std::array<uint8_t, 20>& digest) {
    static const char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(40);
    for (uint8_t byte : digest) {
        hex.push_back(kDigits[byte >> 4]);
        hex.push_back(kDigits[byte & 15]);
    }
    return hex;
}

}  // namespace

Sha1::Sha1() : state_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u} {}

void Sha1::process_block(const uint8_t* block) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
        w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) |
               (uint32_t(block[4 * i + 2]) << 8) | uint32_t(block[4 * i + 3]);
    }
    for (int i = 16; i < 80; ++i) w[i] = rotate_left(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
    for (int i = 0; i < 80; ++i) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t next = rotate_left(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rotate_left(b, 30);
        b = a;
        a = next;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
}

void Sha1::update(const uint8_t* data, size_t size) {
    total_bytes_ += size;
    while (size > 0) {
        // Hash whole blocks straight from the input when nothing is buffered; otherwise top up the buffer.
        if (buffered_ == 0 && size >= 64) {
            process_block(data);
            data += 64;
            size -= 64;
            continue;
        }
        size_t take = std::min(size, buffer_.size() - buffered_);
        std::memcpy(buffer_.data() + buffered_, data, take);
        buffered_ += take;
        data += take;
        size -= take;
        if (buffered_ == buffer_.size()) {
            process_block(buffer_.data());
            buffered_ = 0;
        }
    }
}

std::array<uint8_t, 20> Sha1::finish() {
    // Padding: a 0x80 byte, zeros up to 56 mod 64, then the message length in bits as big-endian u64.
    const uint64_t total_bits = total_bytes_ * 8;
    const uint8_t marker = 0x80;
    update(&marker, 1);
    const uint8_t zero = 0;
    while (buffered_ != 56) update(&zero, 1);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = uint8_t(total_bits >> (56 - 8 * i));
    update(length, 8);

    std::array<uint8_t, 20> digest{};
    for (int i = 0; i < 5; ++i) {
        for (int j = 0; j < 4; ++j) digest[4 * i + j] = uint8_t(state_[i] >> (24 - 8 * j));
    }
    return digest;
}

std::string sha1_hex(const uint8_t* data, size_t size) {
    Sha1 hasher;
    hasher.update(data, size);
    return to_hex(hasher.finish());
}

std::string git_blob_id(const uint8_t* data, size_t size) {
    const std::string header = "blob " + std::to_string(size);
    Sha1 hasher;
    // The header's terminating NUL is part of the hashed object.
    hasher.update(reinterpret_cast<const uint8_t*>(header.c_str()), header.size() + 1);
    hasher.update(data, size);
    return to_hex(hasher.finish());
}

}  // namespace animegan::weights
