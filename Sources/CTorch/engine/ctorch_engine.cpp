// dicomprep's libtorch engine: MONAI's 3D ResNet (same structure and parameter names as
// monai.networks.nets.resnet10/18(spatial_dims=3, n_input_channels=1, num_classes=1)), trained with Adam
// and BCE-with-logits, and MONAI's 3D UNet (monai.networks.nets.UNet) trained with Dice + cross-entropy. Built by `make torch` into libdicomprep_torch.so; every exception is caught here.
#include <torch/torch.h>
#include <ATen/autocast_mode.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "../include/ctorch.h"

namespace {

void setErr(char *err, size_t cap, const std::string &m) {
    if (err && cap) std::snprintf(err, cap, "%s", m.c_str());
}

torch::nn::Conv3dOptions conv(int64_t in, int64_t out, torch::ExpandingArray<3> k, torch::ExpandingArray<3> s,
                              torch::ExpandingArray<3> p, bool bias) {
    return torch::nn::Conv3dOptions(in, out, k).stride(s).padding(p).bias(bias);
}

// libtorch 1.13 chooses a convolution's CPU backend per call (ConvUtils.h, use_mkldnn): a batch-1 input
// whose N*C*D*H is at most 20480 goes to the vol2col + GEMM path, forward and backward, which for the
// U-Net's levels at 24^3 and below is 3-6 times slower than oneDNN (32->32 channels at 24^3, forward +
// backward: 145 ms against 22). Such a convolution is run as a batch of two: the input, padded along
// its first spatial axis, is cut there into two overlapping slabs (the halo is what the kernel reaches
// across the cut), both go through the convolution at once (oneDNN, as the batch is 2), and the two
// halves of the output are joined again. The result is the same convolution (float rounding aside);
// autograd carries the gradients back through the cut, and the backward pass, chosen by the same test,
// runs on oneDNN too. Larger, batched, or non-CPU inputs take the library's own path.
torch::Tensor conv3dOneDNN(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, torch::IntArrayRef stride,
                           torch::IntArrayRef padding) {
    if (x.dim() != 5 || x.size(0) != 1 || x.size(1) * x.size(2) * x.size(3) > 20480 || !x.device().is_cpu() ||
        x.scalar_type() != torch::kFloat || stride.size() != 3 || padding.size() != 3)
        return torch::conv3d(x, w, b, stride, padding);
    int64_t s = stride[0], p = padding[0], k = w.size(2);
    int64_t dOut = (x.size(2) + 2 * p - k) / s + 1;
    if (dOut < 2) return torch::conv3d(x, w, b, stride, padding);
    int64_t h = (dOut + 1) / 2, len = (h - 1) * s + k, second = dOut - h; // each slab gives h output slices
    torch::Tensor xp = p ? torch::constant_pad_nd(x, {0, 0, 0, 0, p, p}) : x;
    torch::Tensor slabs = torch::cat({xp.narrow(2, 0, len), xp.narrow(2, second * s, len)}, 0);
    torch::Tensor y = torch::conv3d(slabs, w, b, {s, stride[1], stride[2]}, {0, padding[1], padding[2]});
    // The second slab's outputs start at `second`; the first h are the first slab's.
    return torch::cat({y.narrow(0, 0, 1), y.narrow(0, 1, 1).narrow(2, h - second, dOut - h)}, 2);
}

// The kernel w (a, b, k1, k2, k3) re-gathered by a tap table that is the same along each spatial axis: table
// (shape t1 x ... x tr, values original taps 0..k-1, or k for a zero) gives a (a, b, t1 x3, ..., tr x3) tensor whose
// entry at (i1, j1, l1, i2, j2, l2, ...) along axes (x, y, z) is w[a, b, table[i1, i2, ...], table[j1, j2, ...],
// table[l1, l2, ...]], zero where a table value is k. The sub-pixel and space-to-depth convolutions build their
// kernels from it; autograd carries the gradients back to w.
torch::Tensor gatherTaps(const torch::Tensor &w, const torch::Tensor &table) {
    int64_t r = table.dim();
    std::vector<int64_t> full;
    for (int64_t a = 0; a < r; a++) full.insert(full.end(), 3, table.size(a));
    auto along = [&](int64_t axis) {
        std::vector<int64_t> shape(3 * r, 1);
        for (int64_t a = 0; a < r; a++) shape[3 * a + axis] = table.size(a);
        return table.view(shape).expand(full);
    };
    using torch::indexing::Slice;
    return torch::constant_pad_nd(w, {0, 1, 0, 1, 0, 1}).index({Slice(), Slice(), along(0), along(1), along(2)});
}

// A stride-1 3x3x3 convolution (padding 1) with very few channels over a large volume, such as the 2 -> 2
// convolution the U-Net's top up layer runs at full resolution. oneDNN's kernels are made for many channels:
// there it took a third of the training step (2 channels at 96^3: 32 ms forward, 156 ms backward) for about
// 0.1 GFLOP. The same convolution is run on the volume folded "space to depth": every 2x2x2 block of voxels
// becomes 8 channels of one voxel at half the size, and a 3x3x3 convolution there with 8x the channels
// (most taps zero) gives the 8 output phases of each block, unfolded again. In one dimension, fine offset
// 2a + p - q (a the coarse tap -1..1, p the input phase, q the output phase) is the original tap when it is
// within -1..1. The parameters stay the module's own; autograd carries the gradients back through the
// rearrangement and the gather. Same result as the direct convolution, float rounding aside.
bool spaceToDepthFits(const torch::Tensor &x, const torch::Tensor &w, torch::IntArrayRef stride, torch::IntArrayRef padding) {
    if (x.dim() != 5 || w.dim() != 5 || stride.size() != 3 || padding.size() != 3 || !x.device().is_cpu()) return false;
    if (w.size(1) * w.size(0) > 16) return false;
    for (int i = 0; i < 3; i++)
        if (stride[i] != 1 || padding[i] != 1 || w.size(2 + i) != 3 || x.size(2 + i) % 2 != 0 || x.size(2 + i) < 32) return false;
    return true;
}

torch::Tensor conv3dSpaceToDepth(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b) {
    int64_t n = x.size(0), cin = w.size(1), cout = w.size(0), d = x.size(2) / 2, h = x.size(3) / 2, wd = x.size(4) / 2;
    // Tap of the original kernel per [output phase q][input phase p][coarse tap a]; 3 is a zero appended to the kernel.
    auto tap = torch::tensor({3, 1, 3, 0, 2, 3, 3, 0, 2, 3, 1, 3}, torch::TensorOptions().dtype(torch::kLong).device(w.device())).view({2, 2, 3});
    torch::Tensor g = gatherTaps(w, tap); // cout, cin, q1, q2, q3, p1, p2, p3, a1, a2, a3
    // -> (cout, q1, q2, q3) x (cin, p1, p2, p3) x a1 x a2 x a3
    torch::Tensor k = g.permute({0, 2, 3, 4, 1, 5, 6, 7, 8, 9, 10}).reshape({cout * 8, cin * 8, 3, 3, 3});
    torch::Tensor xs = x.view({n, cin, d, 2, h, 2, wd, 2}).permute({0, 1, 3, 5, 7, 2, 4, 6}).reshape({n, cin * 8, d, h, wd});
    torch::Tensor y = torch::conv3d(xs, k, {}, 1, 1);
    y = y.view({n, cout, 2, 2, 2, d, h, wd}).permute({0, 1, 5, 2, 6, 3, 7, 4}).reshape({n, cout, 2 * d, 2 * h, 2 * wd});
    return b.defined() ? y + b.view({1, cout, 1, 1, 1}) : y;
}

// A Conv3d module's forward through conv3dOneDNN (zero padding, no dilation or groups; else the module's own).
torch::Tensor convForward(torch::nn::Conv3d &c, const torch::Tensor &x) {
    const auto &o = c->options;
    const auto *pad = c10::get_if<torch::ExpandingArray<3>>(&o.padding());
    bool plain = pad && o.groups() == 1 && c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
    for (int64_t d : *o.dilation()) plain = plain && d == 1;
    if (!plain) return c(x);
    if (spaceToDepthFits(x, c->weight, *o.stride(), **pad)) return conv3dSpaceToDepth(x, c->weight, c->bias);
    return conv3dOneDNN(x, c->weight, c->bias, *o.stride(), **pad);
}

struct BasicBlockImpl : torch::nn::Module {
    torch::nn::Conv3d conv1{nullptr}, conv2{nullptr};
    torch::nn::BatchNorm3d bn1{nullptr}, bn2{nullptr};
    torch::nn::Sequential downsample{nullptr};

    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
        conv1 = register_module("conv1", torch::nn::Conv3d(conv(in, planes, 3, stride, 1, false)));
        bn1 = register_module("bn1", torch::nn::BatchNorm3d(planes));
        conv2 = register_module("conv2", torch::nn::Conv3d(conv(planes, planes, 3, 1, 1, false)));
        bn2 = register_module("bn2", torch::nn::BatchNorm3d(planes));
        if (stride != 1 || in != planes) {
            // Shortcut type B: 1x1x1 conv (with bias, as MONAI's default bias_downsample=True) + BN.
            downsample = register_module("downsample", torch::nn::Sequential(torch::nn::Conv3d(conv(in, planes, 1, stride, 0, true)),
                                                                             torch::nn::BatchNorm3d(planes)));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        torch::Tensor residual = x;
        torch::Tensor out = torch::relu(bn1(conv1(x)));
        out = bn2(conv2(out));
        if (downsample) residual = downsample->forward(x);
        return torch::relu(out + residual);
    }
};
TORCH_MODULE(BasicBlock);

struct ResNet3DImpl : torch::nn::Module {
    torch::nn::Conv3d conv1{nullptr};
    torch::nn::BatchNorm3d bn1{nullptr};
    torch::nn::MaxPool3d maxpool{nullptr};
    torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
    torch::nn::AdaptiveAvgPool3d avgpool{nullptr};
    torch::nn::Linear fc{nullptr};

    ResNet3DImpl(const std::vector<int64_t> &layers, const std::vector<int64_t> &widths, int64_t inChannels, int64_t classes,
                 const int64_t stride[3]) {
        int64_t inPlanes = widths[0];
        conv1 = register_module("conv1", torch::nn::Conv3d(conv(inChannels, inPlanes, {7, 7, 7}, {stride[0], stride[1], stride[2]},
                                                                {3, 3, 3}, false)));
        bn1 = register_module("bn1", torch::nn::BatchNorm3d(inPlanes));
        maxpool = register_module("maxpool", torch::nn::MaxPool3d(torch::nn::MaxPool3dOptions(3).stride(2).padding(1)));
        torch::nn::Sequential *seqs[4] = {&layer1, &layer2, &layer3, &layer4};
        const char *names[4] = {"layer1", "layer2", "layer3", "layer4"};
        for (int i = 0; i < 4; i++) {
            torch::nn::Sequential s;
            for (int64_t b = 0; b < layers[i]; b++) {
                int64_t st = (b == 0 && i > 0) ? 2 : 1;
                s->push_back(BasicBlock(inPlanes, widths[i], st));
                inPlanes = widths[i];
            }
            *seqs[i] = register_module(names[i], s);
        }
        avgpool = register_module("avgpool", torch::nn::AdaptiveAvgPool3d(torch::nn::AdaptiveAvgPool3dOptions({1, 1, 1})));
        fc = register_module("fc", torch::nn::Linear(inPlanes, classes));
        // MONAI's initialisation.
        for (auto &m : modules(/*include_self=*/false)) {
            if (auto *c = m->as<torch::nn::Conv3d>()) {
                torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
            } else if (auto *b = m->as<torch::nn::BatchNorm3d>()) {
                torch::nn::init::constant_(b->weight, 1);
                torch::nn::init::constant_(b->bias, 0);
            } else if (auto *l = m->as<torch::nn::Linear>()) {
                torch::nn::init::constant_(l->bias, 0);
            }
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        x = maxpool(torch::relu(bn1(conv1(x))));
        x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
        x = avgpool(x).flatten(1);
        return fc(x);
    }
};
TORCH_MODULE(ResNet3D);


// MONAI's UNet (monai.networks.nets.UNet, spatial_dims=3) with its module tree and parameter names:
// model.0 = down ResidualUnit, model.1 = SkipConnection(submodule = [down, Skip(...), up]), model.2 = top up.
// Convolution = conv (+ adn: N norm, D dropout 0, A PReLU); ResidualUnit = conv.unit0..k + residual.
struct ADNImpl : torch::nn::Module {
    std::string norm;
    torch::nn::InstanceNorm3d in{nullptr};
    torch::nn::BatchNorm3d bn{nullptr};
    torch::nn::PReLU A{nullptr};
    ADNImpl(int64_t ch, const std::string &norm) : norm(norm) {
        if (norm == "batch") bn = register_module("N", torch::nn::BatchNorm3d(ch));
        else in = register_module("N", torch::nn::InstanceNorm3d(torch::nn::InstanceNorm3dOptions(ch)));
        A = register_module("A", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(1).init(0.25)));
    }
    torch::Tensor forward(torch::Tensor x) { return A(norm == "batch" ? bn(x) : in(x)); }
};
TORCH_MODULE(ADN);

struct ConvolutionImpl : torch::nn::Module {
    torch::nn::Conv3d conv{nullptr};
    torch::nn::ConvTranspose3d tconv{nullptr};
    ADN adn{nullptr};
    bool stride2 = false; // a transposed convolution of stride 2 (kernel 3, padding 1, output padding 1)
    ConvolutionImpl(int64_t in, int64_t out, int64_t stride, bool transposed, bool convOnly, const std::string &norm) {
        stride2 = transposed && stride == 2;
        if (transposed)
            tconv = register_module("conv", torch::nn::ConvTranspose3d(torch::nn::ConvTranspose3dOptions(in, out, 3).stride(stride).padding(1)
                                                                           .output_padding(stride - 1)));
        else conv = register_module("conv", torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, 3).stride(stride).padding(1)));
        if (!convOnly) adn = register_module("adn", ADN(out, norm));
    }
    torch::Tensor forward(torch::Tensor x) {
        x = conv ? convForward(conv, x) : upsample(x);
        return adn ? adn(x) : x;
    }

    // The transposed convolution. libtorch 1.13 runs ConvTranspose3d on the CPU through its slow
    // vol2col path, which took half the UNet's forward time; for MONAI's up layers (stride 2, kernel 3,
    // padding 1, output padding 1) the same output is a 2x2x2 convolution of the input (padded by one
    // voxel at the far end) into 8 phases of the output channels, interleaved back ("sub-pixel"), which
    // runs on oneDNN. In one dimension y[2j] = w[1] x[j] and y[2j+1] = w[2] x[j] + w[0] x[j+1]. The
    // parameters stay the ConvTranspose3d's (MONAI's names and shapes); autograd carries the gradients
    // back through the rearrangement. Small inputs (the bottom level) keep the library path, faster there.
    torch::Tensor upsample(const torch::Tensor &x) {
        bool subPixel = stride2 && x.dim() == 5 && x.size(2) * x.size(3) * x.size(4) >= 512;
        if (!subPixel) return tconv(x);
        const torch::Tensor &w = tconv->weight; // (in, out, 3, 3, 3)
        int64_t cin = w.size(0), cout = w.size(1), b = x.size(0), n1 = x.size(2), n2 = x.size(3), n3 = x.size(4);
        // Kernel index per [phase][tap]; 3 is a zero appended to the kernel.
        auto idx = torch::tensor({1, 3, 2, 0}, torch::TensorOptions().dtype(torch::kLong).device(w.device())).view({2, 2});
        torch::Tensor g = gatherTaps(w, idx); // in, out, phases, taps
        torch::Tensor k = g.permute({2, 3, 4, 1, 0, 5, 6, 7}).reshape({8 * cout, cin, 2, 2, 2});
        torch::Tensor y = conv3dOneDNN(torch::constant_pad_nd(x, {0, 1, 0, 1, 0, 1}), k, torch::Tensor(), {1, 1, 1}, {0, 0, 0});
        y = y.view({b, 2, 2, 2, cout, n1, n2, n3}).permute({0, 4, 5, 1, 6, 2, 7, 3}).reshape({b, cout, 2 * n1, 2 * n2, 2 * n3});
        return tconv->bias.defined() ? y + tconv->bias.view({1, cout, 1, 1, 1}) : y;
    }
};
TORCH_MODULE(Convolution);

struct UnitsImpl : torch::nn::Module {
    std::vector<Convolution> units;
    UnitsImpl(int64_t in, int64_t out, int64_t stride, int subunits, bool lastConvOnly, const std::string &norm) {
        for (int s = 0; s < subunits; s++) {
            bool convOnly = lastConvOnly && s == subunits - 1;
            units.push_back(register_module("unit" + std::to_string(s), Convolution(in, out, s == 0 ? stride : 1, false, convOnly, norm)));
            in = out;
        }
    }
    torch::Tensor forward(torch::Tensor x) {
        for (auto &u : units) x = u(x);
        return x;
    }
};
TORCH_MODULE(Units);

struct ResidualUnitImpl : torch::nn::Module {
    Units conv{nullptr};
    torch::nn::Conv3d residual{nullptr};
    ResidualUnitImpl(int64_t in, int64_t out, int64_t stride, int subunits, bool lastConvOnly, const std::string &norm) {
        conv = register_module("conv", Units(in, out, stride, subunits, lastConvOnly, norm));
        if (stride != 1 || in != out) {
            int64_t k = stride != 1 ? 3 : 1, p = stride != 1 ? 1 : 0;
            residual = register_module("residual", torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, k).stride(stride).padding(p)));
        }
    }
    torch::Tensor forward(torch::Tensor x) { return conv(x) + (residual ? convForward(residual, x) : x); }
};
TORCH_MODULE(ResidualUnit);

// Up layer: transposed convolution + ResidualUnit with one subunit.
struct UpImpl : torch::nn::Module {
    Convolution up{nullptr};
    ResidualUnit ru{nullptr};
    UpImpl(int64_t in, int64_t out, int64_t stride, bool top, const std::string &norm) {
        up = register_module("0", Convolution(in, out, stride, true, false, norm));
        ru = register_module("1", ResidualUnit(out, out, 1, 1, top, norm));
    }
    torch::Tensor forward(torch::Tensor x) { return ru(up(x)); }
};
TORCH_MODULE(Up);

// One level below the top: [down, Skip(next) or bottom, up] registered as "0", "1", "2", inside a
// SkipConnection whose forward is cat([x, submodule(x)], 1).
struct SkipImpl : torch::nn::Module {
    std::shared_ptr<torch::nn::Module> sub;
    std::function<torch::Tensor(torch::Tensor)> f;
    torch::Tensor forward(torch::Tensor x) { return torch::cat({x, f(x)}, 1); }
};

struct UNetImpl : torch::nn::Module {
    std::function<torch::Tensor(torch::Tensor)> f;
    // Builds MONAI's _create_block recursively and returns (module, forward).
    static std::pair<std::shared_ptr<torch::nn::Module>, std::function<torch::Tensor(torch::Tensor)>>
    block(int64_t in, int64_t out, const std::vector<int64_t> &ch, const std::vector<int64_t> &st, bool top, int res, const std::string &norm) {
        int64_t c = ch[0], s = st[0];
        std::shared_ptr<torch::nn::Module> subMod;
        std::function<torch::Tensor(torch::Tensor)> subF;
        int64_t upc;
        if (ch.size() > 2) {
            auto inner = block(c, c, std::vector<int64_t>(ch.begin() + 1, ch.end()), std::vector<int64_t>(st.begin() + 1, st.end()), false, res, norm);
            subMod = inner.first;
            subF = inner.second;
            upc = 2 * c;
        } else {
            // Bottom: a ResidualUnit of stride 1 from ch[0] to ch[1].
            auto bottom = ResidualUnit(c, ch[1], 1, res, false, norm);
            subMod = bottom.ptr();
            subF = [bottom](torch::Tensor x) mutable { return bottom(x); };
            upc = c + ch[1];
        }
        auto down = ResidualUnit(in, c, s, res, false, norm);
        auto skip = std::make_shared<SkipImpl>();
        skip->sub = skip->register_module("submodule", subMod);
        skip->f = subF;
        auto up = Up(upc, out, s, top, norm);
        auto seq = std::make_shared<torch::nn::Module>();
        seq->register_module("0", down.ptr());
        seq->register_module("1", skip);
        seq->register_module("2", up.ptr());
        auto fwd = [down, skip, up](torch::Tensor x) mutable { return up(skip->forward(down(x))); };
        return {seq, fwd};
    }
    UNetImpl(int64_t in, int64_t out, const std::vector<int64_t> &ch, const std::vector<int64_t> &st, int res, const std::string &norm) {
        auto b = block(in, out, ch, st, true, res, norm);
        register_module("model", b.first);
        f = b.second;
    }
    torch::Tensor forward(torch::Tensor x) { return f(x); }
};
TORCH_MODULE(UNet);

} // namespace

struct ctorch_model {
    // The network as a module tree (parameters, buffers, save/load) and its forward function.
    std::shared_ptr<torch::nn::Module> net;
    std::function<torch::Tensor(torch::Tensor)> forward;
    torch::Device device{torch::kCPU};
    std::unique_ptr<torch::optim::Adam> adam;
    int64_t classes = 1;
    // Training compute: false, float32 throughout; true, mixed precision (set_precision "bfloat16").
    bool bf16 = false;
    // Exponential moving average of the parameters (set_ema): one float32 tensor per parameter, updated after
    // every optimiser step; emaDecay 0 when off. emaUpdates counts the updates (the warm-up's t).
    std::vector<torch::Tensor> ema;
    double emaDecay = 0;
    int64_t emaUpdates = 0;
};

namespace {
// Mixed precision for one forward pass: libtorch's CPU autocast runs the convolutions (and the other ops on
// its lower-precision list) in bfloat16 on oneDNN while the parameters, their gradients and Adam's state stay
// float32 (the casts are autograd ops, so gradients come back in float32). Restores the previous state.
struct AutocastScope {
    bool on, wasEnabled;
    at::ScalarType wasType;
    explicit AutocastScope(bool on) : on(on), wasEnabled(at::autocast::is_cpu_enabled()), wasType(at::autocast::get_autocast_cpu_dtype()) {
        if (!on) return;
        at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
        at::autocast::set_cpu_enabled(true);
        at::autocast::increment_nesting();
    }
    ~AutocastScope() {
        if (!on) return;
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        at::autocast::set_cpu_enabled(wasEnabled);
        at::autocast::set_autocast_cpu_dtype(wasType);
    }
};
} // namespace

#define GUARD_BEGIN try {
#define GUARD_END(ret)                                                   \
    }                                                                    \
    catch (const c10::Error &e) {                                        \
        setErr(err, errcap, e.what_without_backtrace());                 \
        return ret;                                                      \
    }                                                                    \
    catch (const std::exception &e) {                                    \
        setErr(err, errcap, e.what());                                   \
        return ret;                                                      \
    }                                                                    \
    catch (...) {                                                        \
        setErr(err, errcap, "unknown C++ exception in the torch engine"); \
        return ret;                                                      \
    }

static const char *torchVersion() {
    static std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                           std::to_string(TORCH_VERSION_PATCH);
    return v.c_str();
}

static int setThreads(int n) {
    try {
        if (n > 0) torch::set_num_threads(n);
        return 0;
    } catch (...) {
        return -1;
    }
}
static int getThreads() {
    try {
        return torch::get_num_threads();
    } catch (...) {
        return -1;
    }
}
static int cudaAvailable() {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}
static int manualSeed(uint64_t s) {
    try {
        torch::manual_seed(s);
        return 0;
    } catch (...) {
        return -1;
    }
}

static bool placeOn(ctorch_model *m, const char *device, char *err, size_t errcap);

static ctorch_model *create(const char *arch, int inChannels, int classes, const int64_t stride[3], const char *device, char *err,
                            size_t errcap) {
    GUARD_BEGIN
    std::string a(arch);
    std::vector<int64_t> layers, widths;
    if (a == "resnet10") {
        layers = {1, 1, 1, 1};
        widths = {64, 128, 256, 512};
    } else if (a == "resnet18") {
        layers = {2, 2, 2, 2};
        widths = {64, 128, 256, 512};
    } else if (a == "resnet-small") {
        layers = {1, 1, 1, 1};
        widths = {16, 32, 64, 128};
    } else {
        setErr(err, errcap, "unknown architecture " + a + " (resnet10, resnet18, resnet-small)");
        return nullptr;
    }
    auto *m = new ctorch_model();
    ResNet3D net(layers, widths, inChannels, classes, stride);
    m->net = net.ptr();
    m->forward = [net](torch::Tensor x) mutable { return net(x); };
    m->classes = classes;
    if (!placeOn(m, device, err, errcap)) return nullptr;
    return m;
    GUARD_END(nullptr)
}

static bool placeOn(ctorch_model *m, const char *device, char *err, size_t errcap) {
    std::string dev(device ? device : "cpu");
    if (dev == "cuda") {
        if (!torch::cuda::is_available()) {
            delete m;
            setErr(err, errcap, "CUDA was asked for but is not available to this libtorch");
            return false;
        }
        m->device = torch::Device(torch::kCUDA);
    }
    m->net->to(m->device);
    return true;
}

static ctorch_model *createUNet(int inChannels, int outChannels, const int64_t *channels, const int64_t *strides, int levels, int resUnits,
                                const char *norm, const char *device, char *err, size_t errcap) {
    GUARD_BEGIN
    if (levels < 2) {
        setErr(err, errcap, "a UNet needs at least two channel levels");
        return nullptr;
    }
    std::string n(norm ? norm : "instance");
    if (n != "instance" && n != "batch") {
        setErr(err, errcap, "unknown normalisation " + n + " (instance, batch)");
        return nullptr;
    }
    std::vector<int64_t> ch(channels, channels + levels), st(strides, strides + levels - 1);
    auto *m = new ctorch_model();
    UNet net(inChannels, outChannels, ch, st, resUnits, n);
    m->net = net.ptr();
    m->forward = [net](torch::Tensor x) mutable { return net(x); };
    m->classes = outChannels;
    if (!placeOn(m, device, err, errcap)) return nullptr;
    return m;
    GUARD_END(nullptr)
}

static void destroy(ctorch_model *m) {
    try {
        delete m;
    } catch (...) {
    }
}

static int64_t parameterCount(ctorch_model *m) {
    try {
        int64_t n = 0;
        for (auto &p : m->net->parameters()) n += p.numel();
        return n;
    } catch (...) {
        return -1;
    }
}

static int configureAdam(ctorch_model *m, double lr, double wd, char *err, size_t errcap) {
    GUARD_BEGIN
    m->adam = std::make_unique<torch::optim::Adam>(m->net->parameters(), torch::optim::AdamOptions(lr).weight_decay(wd));
    return 0;
    GUARD_END(-1)
}

static int setLearningRate(ctorch_model *m, double lr, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!m->adam) {
        setErr(err, errcap, "the optimiser is not configured");
        return -1;
    }
    for (auto &g : m->adam->param_groups()) static_cast<torch::optim::AdamOptions &>(g.options()).lr(lr);
    return 0;
    GUARD_END(-1)
}

static torch::Tensor input(ctorch_model *m, const float *x, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w) {
    return torch::from_blob(const_cast<float *>(x), {b, c, d, h, w}, torch::kFloat32).to(m->device);
}

// One Adam step on the loss that `lossOf` computes with the network in training mode; false (with the
// message set) when no optimiser is configured.
template <typename F> static bool adamStep(ctorch_model *m, F lossOf, torch::Tensor *lossOut, char *err, size_t errcap) {
    if (!m->adam) {
        setErr(err, errcap, "the optimiser is not configured");
        return false;
    }
    m->net->train();
    m->adam->zero_grad();
    *lossOut = lossOf();
    lossOut->backward();
    m->adam->step();
    if (m->emaDecay > 0) {
        // ema = d * ema + (1 - d) * w, with d = min(decay, (1 + t) / (10 + t)) so the early average does not
        // carry the random initialisation for thousands of steps.
        torch::NoGradGuard noGrad;
        double t = double(m->emaUpdates), d = std::min(m->emaDecay, (1 + t) / (10 + t));
        auto ps = m->net->parameters();
        for (size_t i = 0; i < ps.size(); i++) m->ema[i].mul_(d).add_(ps[i].detach(), 1 - d);
        m->emaUpdates++;
    }
    return true;
}

static int trainStep(ctorch_model *m, const float *x, const float *y, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w,
                     float *lossOut, float *logitsOut, char *err, size_t errcap) {
    GUARD_BEGIN
    torch::Tensor in = input(m, x, b, c, d, h, w);
    torch::Tensor target = torch::from_blob(const_cast<float *>(y), {b, m->classes}, torch::kFloat32).to(m->device);
    torch::Tensor logits, loss;
    auto bce = [&] {
        logits = m->forward(in);
        return torch::binary_cross_entropy_with_logits(logits, target);
    };
    if (!adamStep(m, bce, &loss, err, errcap)) return -1;
    *lossOut = loss.item<float>();
    if (logitsOut) {
        torch::Tensor l = logits.detach().to(torch::kCPU).contiguous();
        std::memcpy(logitsOut, l.data_ptr<float>(), sizeof(float) * b * m->classes);
    }
    return 0;
    GUARD_END(-1)
}

static int predict(ctorch_model *m, const float *x, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w, float *out, char *err,
                   size_t errcap) {
    GUARD_BEGIN
    c10::InferenceMode guard; // lighter than NoGradGuard: no version counters or view tracking
    m->net->eval();
    torch::Tensor l = m->forward(input(m, x, b, c, d, h, w)).to(torch::kCPU).contiguous();
    std::memcpy(out, l.data_ptr<float>(), sizeof(float) * b * m->classes);
    return 0;
    GUARD_END(-1)
}


// Segmentation: logits b x classes x d x h x w against class indices; MONAI's DiceCELoss(to_onehot_y=True,
// softmax=True): soft Dice per sample and class (smooth 1e-5, background included) averaged, plus cross-entropy.
// With `soft` set, target is b x classes x d x h x w class fractions (each voxel's summing to 1: partial volume)
// instead: the same Dice with the fractions in place of the one-hot map, and cross-entropy against them
// (-sum_c g_c log p_c, which one-hot fractions turn back into the hard loss).
static torch::Tensor diceCE(const torch::Tensor &logits, const torch::Tensor &target, int64_t classes, bool soft, torch::Tensor *diceOut) {
    torch::Tensor ce, g;
    if (soft) {
        g = target.to(logits.dtype());
        ce = -(g * torch::log_softmax(logits, 1)).sum(1).mean();
    } else {
        ce = torch::nn::functional::cross_entropy(logits, target);
        g = torch::one_hot(target, classes).permute({0, 4, 1, 2, 3}).to(logits.dtype());
    }
    torch::Tensor p = torch::softmax(logits, 1);
    std::vector<int64_t> dims = {2, 3, 4};
    torch::Tensor inter = (p * g).sum(dims), denom = p.sum(dims) + g.sum(dims);
    torch::Tensor dice = (2 * inter + 1e-5) / (denom + 1e-5);
    if (diceOut) *diceOut = dice.detach().mean(0);
    return (1 - dice).mean() + ce;
}

static int segmentStep(ctorch_model *m, torch::Tensor in, torch::Tensor target, bool soft, float *lossOut, float *diceOut, char *err, size_t errcap) {
    torch::Tensor perClass, loss;
    auto lossOf = [&] {
        torch::Tensor logits;
        {
            AutocastScope mixed(m->bf16);
            logits = m->forward(in);
        }
        return diceCE(logits.to(torch::kFloat32), target, m->classes, soft, &perClass); // the loss in float32 either way
    };
    if (!adamStep(m, lossOf, &loss, err, errcap)) return -1;
    *lossOut = loss.item<float>();
    if (diceOut) {
        torch::Tensor pc = perClass.to(torch::kCPU).to(torch::kFloat32).contiguous();
        std::memcpy(diceOut, pc.data_ptr<float>(), sizeof(float) * m->classes);
    }
    return 0;
}

static int trainStepSegment(ctorch_model *m, const float *x, const uint8_t *labels, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w,
                            float *lossOut, float *diceOut, char *err, size_t errcap) {
    GUARD_BEGIN
    torch::Tensor in = input(m, x, b, c, d, h, w);
    torch::Tensor target = torch::from_blob(const_cast<uint8_t *>(labels), {b, d, h, w}, torch::kUInt8).to(torch::kLong).to(m->device);
    if (target.max().item<int64_t>() >= m->classes) {
        setErr(err, errcap, "a label value is not below the number of classes " + std::to_string(m->classes));
        return -1;
    }
    return segmentStep(m, in, target, false, lossOut, diceOut, err, errcap);
    GUARD_END(-1)
}

static int trainStepSegmentSoft(ctorch_model *m, const float *x, const float *targets, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w,
                                float *lossOut, float *diceOut, char *err, size_t errcap) {
    GUARD_BEGIN
    torch::Tensor in = input(m, x, b, c, d, h, w);
    torch::Tensor target = torch::from_blob(const_cast<float *>(targets), {b, m->classes, d, h, w}, torch::kFloat32).clone().to(m->device);
    if (target.min().item<float>() < -1e-4f || target.max().item<float>() > 1 + 1e-4f) {
        setErr(err, errcap, "a class fraction is outside 0...1");
        return -1;
    }
    return segmentStep(m, in, target, true, lossOut, diceOut, err, errcap);
    GUARD_END(-1)
}

static int predictSegment(ctorch_model *m, const float *x, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w, float *probsOut,
                          char *err, size_t errcap) {
    GUARD_BEGIN
    c10::InferenceMode guard;
    m->net->eval();
    torch::Tensor p = torch::softmax(m->forward(input(m, x, b, c, d, h, w)), 1).to(torch::kCPU).contiguous();
    std::memcpy(probsOut, p.data_ptr<float>(), sizeof(float) * p.numel());
    return 0;
    GUARD_END(-1)
}

static int setPrecision(ctorch_model *m, const char *precision, char *err, size_t errcap) {
    GUARD_BEGIN
    std::string p = precision ? precision : "";
    if (p != "float32" && p != "bfloat16") {
        setErr(err, errcap, "precision is float32 or bfloat16, not '" + p + "'");
        return -1;
    }
    if (p == "bfloat16" && !m->device.is_cpu()) {
        setErr(err, errcap, "bfloat16 mixed precision is implemented for the CPU only");
        return -1;
    }
    m->bf16 = p == "bfloat16";
    return 0;
    GUARD_END(-1)
}

// decay in (0, 1): start averaging from the current parameters; 0: stop.
static int setEMA(ctorch_model *m, double decay, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!(decay >= 0 && decay < 1)) {
        setErr(err, errcap, "the averaging decay must be in 0..<1");
        return -1;
    }
    torch::NoGradGuard noGrad;
    m->ema.clear();
    m->emaUpdates = 0;
    m->emaDecay = decay;
    if (decay > 0)
        for (auto &p : m->net->parameters()) m->ema.push_back(p.detach().clone());
    return 0;
    GUARD_END(-1)
}

// Whether set_ema turned averaging on; false with the message set.
static bool averaging(ctorch_model *m, char *err, size_t errcap) {
    if (m->emaDecay > 0) return true;
    setErr(err, errcap, "weight averaging is not on");
    return false;
}

// Exchanges the parameters with their average (twice restores them).
static int swapEMA(ctorch_model *m, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!averaging(m, err, errcap)) return -1;
    torch::NoGradGuard noGrad;
    auto ps = m->net->parameters();
    for (size_t i = 0; i < ps.size(); i++) {
        torch::Tensor live = ps[i].detach().clone();
        ps[i].detach().copy_(m->ema[i]);
        m->ema[i].copy_(live);
    }
    return 0;
    GUARD_END(-1)
}

// The average and its update count, for an exact resume.
static int saveEMA(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!averaging(m, err, errcap)) return -1;
    std::vector<torch::Tensor> all;
    for (auto &e : m->ema) all.push_back(e.to(torch::kCPU));
    all.push_back(torch::tensor({m->emaUpdates}, torch::kInt64));
    torch::save(all, path);
    return 0;
    GUARD_END(-1)
}

static int loadEMA(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!averaging(m, err, errcap)) return -1;
    std::vector<torch::Tensor> all;
    torch::load(all, path);
    if (all.size() != m->ema.size() + 1) {
        setErr(err, errcap, "the averaged weights do not fit this network (" + std::to_string(all.size()) + " tensors)");
        return -1;
    }
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < m->ema.size(); i++) {
        if (all[i].sizes() != m->ema[i].sizes()) {
            setErr(err, errcap, "the averaged weights do not fit this network (tensor " + std::to_string(i) + ")");
            return -1;
        }
        m->ema[i].copy_(all[i]);
    }
    m->emaUpdates = all.back().item<int64_t>();
    return 0;
    GUARD_END(-1)
}

static int saveWeights(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    torch::save(m->net, path);
    return 0;
    GUARD_END(-1)
}

static int loadWeights(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    // torch::load replaces a tensor of another shape silently: check every shape afterwards.
    std::vector<std::pair<std::string, std::vector<int64_t>>> before;
    for (auto &p : m->net->named_parameters()) before.push_back({p.key(), p.value().sizes().vec()});
    for (auto &p : m->net->named_buffers()) before.push_back({p.key(), p.value().sizes().vec()});
    torch::load(m->net, path, m->device);
    size_t i = 0;
    std::vector<std::pair<std::string, std::vector<int64_t>>> after;
    for (auto &p : m->net->named_parameters()) after.push_back({p.key(), p.value().sizes().vec()});
    for (auto &p : m->net->named_buffers()) after.push_back({p.key(), p.value().sizes().vec()});
    for (; i < before.size(); i++) {
        if (before[i].second != after[i].second) {
            std::ostringstream msg;
            msg << "the weights do not fit this architecture: " << before[i].first << " has shape " << c10::IntArrayRef(before[i].second)
                << " but the file has " << c10::IntArrayRef(after[i].second);
            setErr(err, errcap, msg.str());
            return -1;
        }
    }
    return 0;
    GUARD_END(-1)
}

static int saveOptimizer(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!m->adam) {
        setErr(err, errcap, "the optimiser is not configured");
        return -1;
    }
    torch::save(*m->adam, path);
    return 0;
    GUARD_END(-1)
}

static int loadOptimizer(ctorch_model *m, const char *path, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!m->adam) {
        setErr(err, errcap, "the optimiser is not configured");
        return -1;
    }
    torch::load(*m->adam, path);
    return 0;
    GUARD_END(-1)
}

static int stateKeys(ctorch_model *m, char *buf, size_t cap, size_t *needed) {
    try {
        std::ostringstream s;
        for (auto &p : m->net->named_parameters()) s << p.key() << "\n";
        for (auto &p : m->net->named_buffers()) s << p.key() << "\n";
        std::string t = s.str();
        if (needed) *needed = t.size();
        if (cap > 0) {
            size_t n = t.size() < cap - 1 ? t.size() : cap - 1;
            std::memcpy(buf, t.data(), n);
            buf[n] = 0;
        }
        return 0;
    } catch (...) {
        return -1;
    }
}

static const ctorch_api api = {
    CTORCH_API_VERSION, torchVersion, setThreads, getThreads, cudaAvailable, manualSeed, create, destroy, parameterCount,
    configureAdam, setLearningRate, trainStep, predict, saveWeights, loadWeights, saveOptimizer, loadOptimizer, stateKeys,
    createUNet, trainStepSegment, predictSegment, trainStepSegmentSoft, setPrecision, setEMA, swapEMA, saveEMA, loadEMA,
};

extern "C" __attribute__((visibility("default"))) const ctorch_api *ctorch_get_api(void) { return &api; }
