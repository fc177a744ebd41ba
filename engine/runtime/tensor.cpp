#include "animegan/tensor.h"

#include <sys/mman.h>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace animegan {
namespace {

constexpr size_t kAlignment = 64;  // a cache line, and the widest vector load (AVX-512)

// Activations of a large image are tens of MB each. They are mapped straight from the system and unmapped
// when released, so freed memory really leaves the process: through malloc, each free of such a block raises
// glibc's mmap threshold, later large blocks land on the heap, and the resident size creeps up by what it
// keeps.
constexpr size_t kMapThreshold = size_t(1) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

size_t byte_size(size_t count) {
    return std::max<size_t>((count * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment, kAlignment);
}

// Over-maps by one huge page and trims, so the range starts on a huge-page boundary: the kernel backs only
// 2 MiB-aligned stretches with huge pages, and pages move as whole huge pages only between aligned addresses.
char* map_aligned(size_t bytes) {
    const size_t span = bytes + kHugePage;
    void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    char* start = static_cast<char*>(p);
    char* aligned = start + (kHugePage - reinterpret_cast<uintptr_t>(start) % kHugePage) % kHugePage;
    if (aligned > start) munmap(start, size_t(aligned - start));
    if (aligned + bytes < start + span) munmap(aligned + bytes, size_t(start + span - (aligned + bytes)));
    // Transparent huge pages where the system allows them on request (the Debian default): each
    // activation is written once after it is mapped, and with 4 KiB pages a 512x512 forward took some
    // 70,000 page faults, about 3,900 with 2 MiB pages; 2 threads ran 15% faster, 1 thread 4%.
    madvise(aligned, bytes, MADV_HUGEPAGE);
    return aligned;
}

float* allocate_floats(size_t count) {
    const size_t bytes = byte_size(count);
    if (bytes >= kMapThreshold) return reinterpret_cast<float*>(map_aligned(bytes));
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
}

void free_floats(float* p, size_t count) {
    const size_t bytes = byte_size(count);
    if (bytes >= kMapThreshold) {
        munmap(p, bytes);
    } else {
        std::free(p);
    }
}

}  // namespace

// The pool keeps every page it has faulted in: a released buffer stays mapped, and a request that no cached
// buffer fits is built from the cached pages by moving them (mremap: page tables change hands, no page is
// zeroed or faulted again) into one new range, with fresh pages only for what they do not cover. So a pass
// faults in its peak live set once. Before, a request that did not fit unmapped the cache and mapped afresh:
// a 512x512 forward mapped 256 MB for a 128 MB peak, and on a VM that hands free memory back to its host
// (free page reporting) every fresh page costs a host fault too, about 1 ms per MB on this machine.
struct BufferPool::State {
    // Pages in one mapping each (mremap moves within one mapping only), 2 MiB-aligned where large.
    struct Piece {
        char* data;
        size_t bytes;
    };
    struct Small {
        size_t capacity;
        float* data;
    };
    std::vector<Piece> free_pieces;
    std::vector<Small> free_small;  // below kMapThreshold: malloc's, reused as before
    size_t allocated = 0, peak = 0;

    ~State() {
        for (Piece& p : free_pieces) munmap(p.data, p.bytes);
        for (Small& f : free_small) free_floats(f.data, f.capacity);
    }

    void grow(size_t bytes) {
        allocated += bytes;
        peak = std::max(peak, allocated);
    }

    // Small buffers: the smallest cached one that fits, else drop the small cache and allocate.
    std::pair<float*, size_t> acquire_small(size_t count) {
        auto best = free_small.end();
        for (auto it = free_small.begin(); it != free_small.end(); ++it) {
            if (it->capacity >= count && (best == free_small.end() || it->capacity < best->capacity))
                best = it;
        }
        if (best != free_small.end()) {
            const Small f = *best;
            free_small.erase(best);
            return {f.data, f.capacity};
        }
        for (Small& f : free_small) {
            free_floats(f.data, f.capacity);
            allocated -= f.capacity * sizeof(float);
        }
        free_small.clear();
        grow(count * sizeof(float));
        return {allocate_floats(count), count};
    }

    // A large buffer of `bytes` (a multiple of kHugePage) and the pieces it is made of: part of one cached
    // piece when one is large enough (the smallest such), else cached pieces moved into a new range, largest
    // first, and fresh pages after them.
    std::vector<Piece> acquire_pieces(size_t bytes) {
        auto best = free_pieces.end();
        for (auto it = free_pieces.begin(); it != free_pieces.end(); ++it) {
            if (it->bytes >= bytes && (best == free_pieces.end() || it->bytes < best->bytes)) best = it;
        }
        if (best != free_pieces.end()) {
            const Piece taken{best->data, bytes};
            best->data += bytes, best->bytes -= bytes;
            if (best->bytes == 0) free_pieces.erase(best);
            return {taken};
        }
        char* range = map_aligned(bytes);
        std::vector<Piece> pieces;
        std::sort(free_pieces.begin(), free_pieces.end(),
                  [](const Piece& a, const Piece& b) { return a.bytes > b.bytes; });
        size_t filled = 0;
        while (!free_pieces.empty() && filled < bytes) {
            Piece& from = free_pieces.front();
            const size_t take = std::min(from.bytes, bytes - filled);
            if (!move_pages(from.data, take, range + filled)) break;
            pieces.push_back({range + filled, take});
            from.data += take, from.bytes -= take;
            if (from.bytes == 0) free_pieces.erase(free_pieces.begin());
            filled += take;
        }
        if (filled < bytes) {
            pieces.push_back({range + filled, bytes - filled});
            grow(bytes - filled);
        }
        return pieces;
    }

    static bool move_pages(char* from, size_t bytes, char* to) {
#ifdef __linux__
        return mremap(from, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED;
#else
        (void)from, (void)bytes, (void)to;
        return false;
#endif
    }
};

BufferPool::BufferPool() : state_(std::make_shared<State>()) {}
BufferPool::~BufferPool() = default;
size_t BufferPool::bytes_allocated() const {
    return state_->allocated;
}
size_t BufferPool::peak_bytes_allocated() const {
    return state_->peak;
}

Tensor::Tensor(int channels, int height, int width) : channels_(channels), height_(height), width_(width) {
    const size_t count = size();
    data_ = std::shared_ptr<float>(allocate_floats(count), [count](float* p) { free_floats(p, count); });
}

Tensor::Tensor(int channels, int height, int width, BufferPool& pool)
    : channels_(channels), height_(height), width_(width) {
    auto state = pool.state_;
    if (byte_size(size()) < kMapThreshold) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda (the fuzz build uses
        // clang).
        const std::pair<float*, size_t> acquired = state->acquire_small(size());
        const size_t capacity = acquired.second;
        data_ = std::shared_ptr<float>(acquired.first, [state, capacity](float* p) {
            state->free_small.push_back({capacity, p});
        });
        return;
    }
    const size_t bytes = (byte_size(size()) + kHugePage - 1) / kHugePage * kHugePage;
    std::vector<BufferPool::State::Piece> pieces = state->acquire_pieces(bytes);
    float* data = reinterpret_cast<float*>(pieces.front().data);
    // Released, the pieces go back one by one: each lies in one mapping.
    data_ = std::shared_ptr<float>(data, [state, pieces = std::move(pieces)](float*) {
        state->free_pieces.insert(state->free_pieces.end(), pieces.begin(), pieces.end());
    });
}

}  // namespace animegan
