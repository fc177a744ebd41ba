// Multigrid for the Poisson equation on an irregular region (the face mask) inside a rectangular grid.
//
// Why multigrid: Gauss-Seidel alone needs O(n^2) sweeps on an n-pixel-wide face; a V-cycle removes every error
// frequency at the grid spacing where it is high, so a handful of cycles reach 8-bit accuracy. Coarse grids are
// vertex-centred (coarse point X sits on fine point 2X) and a coarse point is unknown when its fine point is:
// odd sizes nest exactly, even sizes lose half a cell at the far edge, which only slows convergence slightly
// (the stopping test is on the actual change, so the answer does not depend on it).
#include "engine/poisson.h"

#include <algorithm>
#include <cmath>

#include "animegan/error.h"

namespace animegan::poisson {
namespace {

// Coarsening stops once the short side is this small; a few dozen sweeps then solve the coarsest grid exactly
// enough, since every point is at most a couple of cells from a Dirichlet point.
constexpr int kCoarsestSide = 7;
constexpr int kCoarsestSweeps = 40;
constexpr int kPreSweeps = 2, kPostSweeps = 2;
constexpr int kBandWidth = 4, kBandSweeps = 8;

}  // namespace

Multigrid::Multigrid(const std::vector<uint8_t>& inside, int w, int h) {
    if (w < 3 || h < 3 || inside.size() != size_t(w) * h) throw Error("poisson: bad grid");
    Level fine;
    fine.w = w, fine.h = h, fine.inside = inside;
    for (int x = 0; x < w; ++x) fine.inside[x] = fine.inside[size_t(h - 1) * w + x] = 0;
    for (int y = 0; y < h; ++y) fine.inside[size_t(y) * w] = fine.inside[size_t(y) * w + w - 1] = 0;
    levels_.push_back(std::move(fine));
    while (std::min(levels_.back().w, levels_.back().h) > kCoarsestSide) {
        const Level& f = levels_.back();
        Level c;
        c.w = f.w / 2 + 1, c.h = f.h / 2 + 1;
        c.inside.assign(size_t(c.w) * c.h, 0);
        bool any = false;
        for (int y = 1; y < c.h - 1; ++y) {
            for (int x = 1; x < c.w - 1; ++x) {
                const uint8_t in = f.inside[size_t(2 * y) * f.w + 2 * x];
                c.inside[size_t(y) * c.w + x] = in;
                any = any || in;
            }
        }
        if (!any) break;  // the region is thinner than the coarse spacing: smoothing alone handles it
        levels_.push_back(std::move(c));
    }
    for (Level& l : levels_) {
        for (int y = 1; y < l.h - 1; ++y) {
            for (int x = 1; x < l.w - 1; ++x) {
                const size_t i = size_t(y) * l.w + x;
                bool near_edge = false;
                for (int dy = -kBandWidth; dy <= kBandWidth; ++dy) {
                    for (int dx = -kBandWidth; dx <= kBandWidth; ++dx) {
                        const int xx = std::clamp(x + dx, 0, l.w - 1), yy = std::clamp(y + dy, 0, l.h - 1);
                        near_edge = near_edge || !l.inside[size_t(yy) * l.w + xx];
                    }
                }
                if (l.inside[i] && near_edge) l.band.push_back(i);
            }
        }
        const size_t n = size_t(l.w) * l.h;
        l.e.assign(n, 0.f), l.b.assign(n, 0.f), l.r.assign(n, 0.f);
    }
}

namespace {

template <typename Level>
void smooth(Level& l, float h2, int sweeps) {
    const int w = l.w;
    for (int s = 0; s < sweeps; ++s) {
        for (int color = 0; color < 2; ++color) {
            for (int y = 1; y < l.h - 1; ++y) {
                for (int x = 1 + ((y + color + 1) & 1); x < w - 1; x += 2) {
                    const size_t i = size_t(y) * w + x;
                    if (l.inside[i]) l.e[i] = 0.25f * (l.e[i - 1] + l.e[i + 1] + l.e[i - w] + l.e[i + w] - h2 * l.b[i]);
                }
            }
        }
    }
}

// Extra Gauss-Seidel sweeps on the unknowns near the region's edge (within kBandWidth cells), where the coarse grids' blocky copy of
// the region corrects worst; they cost little (the band is thin) and restore the V-cycle's convergence rate.
template <typename Level>
void smooth_band(Level& l, float h2, int sweeps) {
    const int w = l.w;
    for (int s = 0; s < sweeps; ++s) {
        for (size_t i : l.band) l.e[i] = 0.25f * (l.e[i - 1] + l.e[i + 1] + l.e[i - w] + l.e[i + w] - h2 * l.b[i]);
    }
}

template <typename Level>
void compute_residual(Level& l, float h2) {
    const int w = l.w;
    const float inv_h2 = 1.f / h2;
    std::fill(l.r.begin(), l.r.end(), 0.f);
    for (int y = 1; y < l.h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
            const size_t i = size_t(y) * w + x;
            if (l.inside[i]) l.r[i] = l.b[i] - (l.e[i - 1] + l.e[i + 1] + l.e[i - w] + l.e[i + w] - 4.f * l.e[i]) * inv_h2;
        }
    }
}

// Full weighting (1 2 1 / 2 4 2 / 1 2 1) / 16 of the fine residual onto the coarse right-hand side.
template <typename Level>
void restrict_residual(const Level& f, Level& c) {
    for (int y = 1; y < c.h - 1; ++y) {
        for (int x = 1; x < c.w - 1; ++x) {
            const size_t ci = size_t(y) * c.w + x;
            if (!c.inside[ci]) continue;
            const size_t i = size_t(2 * y) * f.w + 2 * x;
            const float* r = f.r.data();
            c.b[ci] = (4.f * r[i] + 2.f * (r[i - 1] + r[i + 1] + r[i - f.w] + r[i + f.w]) +
                       r[i - f.w - 1] + r[i - f.w + 1] + r[i + f.w - 1] + r[i + f.w + 1]) / 16.f;
        }
    }
}

// Adds the coarse correction, bilinearly interpolated, to the fine unknowns.
template <typename Level>
void prolong_add(const Level& c, Level& f) {
    for (int y = 1; y < f.h - 1; ++y) {
        const int y0 = y / 2, y1 = (y + 1) / 2;
        for (int x = 1; x < f.w - 1; ++x) {
            const size_t i = size_t(y) * f.w + x;
            if (!f.inside[i]) continue;
            const int x0 = x / 2, x1 = (x + 1) / 2;
            const float* e = c.e.data();
            f.e[i] += 0.25f * (e[size_t(y0) * c.w + x0] + e[size_t(y0) * c.w + x1] + e[size_t(y1) * c.w + x0] +
                               e[size_t(y1) * c.w + x1]);
        }
    }
}

}  // namespace

void Multigrid::v_cycle(size_t level) {
    Level& l = levels_[level];
    const float spacing = float(1 << level), h2 = spacing * spacing;
    if (level + 1 == levels_.size()) {
        smooth(l, h2, kCoarsestSweeps);
        return;
    }
    smooth(l, h2, kPreSweeps);
    compute_residual(l, h2);
    Level& c = levels_[level + 1];
    restrict_residual(l, c);
    std::fill(c.e.begin(), c.e.end(), 0.f);
    v_cycle(level + 1);
    prolong_add(c, l);
    smooth(l, h2, kPostSweeps);
    smooth_band(l, h2, kBandSweeps);
}

int Multigrid::solve(const std::vector<float>& rhs, std::vector<float>& e, float tol, int max_cycles) {
    Level& fine = levels_[0];
    if (rhs.size() != fine.b.size()) throw Error("poisson: right-hand side does not match the grid");
    fine.b = rhs;
    std::fill(fine.e.begin(), fine.e.end(), 0.f);
    std::vector<float> previous;
    int cycles = 0;
    while (cycles < max_cycles) {
        previous = fine.e;
        v_cycle(0);
        ++cycles;
        float change = 0.f;
        for (size_t i = 0; i < previous.size(); ++i) change = std::max(change, std::fabs(fine.e[i] - previous[i]));
        if (change <= tol) break;
    }
    e = fine.e;
    return cycles;
}

std::vector<float> seamless_clone(const float* scene, const float* source, const std::vector<uint8_t>& mask, int w,
                                  int h, Multigrid& solver, float tol) {
    // With f = scene + e, the correction e is 0 outside the mask and has the Laplacian of (source - scene) inside.
    const size_t n = size_t(w) * h;
    std::vector<float> d(n), rhs(n, 0.f);
    for (size_t i = 0; i < n; ++i) d[i] = source[i] - scene[i];
    for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
            const size_t i = size_t(y) * w + x;
            if (mask[i]) rhs[i] = d[i - 1] + d[i + 1] + d[i - w] + d[i + w] - 4.f * d[i];
        }
    }
    std::vector<float> f;
    solver.solve(rhs, f, tol);
    for (size_t i = 0; i < n; ++i) f[i] += scene[i];
    return f;
}

}  // namespace animegan::poisson
