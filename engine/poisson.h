// Poisson image editing (Pérez, Gangnet and Blake 2003) for the face pass: seamless cloning of one channel,
// solved by geometric multigrid on the region's bounding grid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace animegan::poisson {

// Solves the 5-point Poisson equation  sum of the 4 neighbours of p minus 4 e_p = rhs_p  at every grid point p
// with inside[p] != 0, where e = 0 at every other point (Dirichlet), on a w x h grid whose border rows and
// columns must be outside. The region may be any shape. Built once per region, solved once per channel.
class Multigrid {
public:
    Multigrid(const std::vector<uint8_t>& inside, int w, int h);

    // V-cycles (red-black Gauss-Seidel smoothing, full-weighting restriction, bilinear prolongation) from e = 0
    // until one cycle changes no value by more than tol, or max_cycles. Returns the cycles run.
    int solve(const std::vector<float>& rhs, std::vector<float>& e, float tol, int max_cycles = 60);

private:
    struct Level {
        int w = 0, h = 0;
        std::vector<uint8_t> inside;
        std::vector<size_t> band;  // unknowns within a few cells of a fixed point
        std::vector<float> e, b, r;
    };
    void v_cycle(size_t level);
    std::vector<Level> levels_;
};

// Seamless cloning of one channel on a w x h grid: f = scene outside the mask and, inside it, f has the
// source's Laplacian (the source's gradients are the guidance field, the scene the boundary condition).
// The mask's border rows and columns must be 0. tol bounds the last V-cycle's change (same units as the data).
std::vector<float> seamless_clone(const float* scene, const float* source, const std::vector<uint8_t>& mask, int w,
                                  int h, Multigrid& solver, float tol);

}  // namespace animegan::poisson
