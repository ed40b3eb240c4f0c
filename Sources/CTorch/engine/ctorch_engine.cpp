// dicomprep's libtorch engine: MONAI's 3D ResNet (same structure and parameter names as
// monai.networks.nets.resnet10/18(spatial_dims=3, n_input_channels=1, num_classes=1)), trained with Adam
// and BCE-with-logits. Built by `make torch` into libdicomprep_torch.so; every exception is caught here.
#include <torch/torch.h>
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

} // namespace

struct ctorch_model {
    ResNet3D net{nullptr};
    torch::Device device{torch::kCPU};
    std::unique_ptr<torch::optim::Adam> adam;
    int64_t classes = 1;
};

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
    m->net = ResNet3D(layers, widths, inChannels, classes, stride);
    m->classes = classes;
    std::string dev(device ? device : "cpu");
    if (dev == "cuda") {
        if (!torch::cuda::is_available()) {
            delete m;
            setErr(err, errcap, "CUDA was asked for but is not available to this libtorch");
            return nullptr;
        }
        m->device = torch::Device(torch::kCUDA);
    }
    m->net->to(m->device);
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

static int trainStep(ctorch_model *m, const float *x, const float *y, int64_t b, int64_t c, int64_t d, int64_t h, int64_t w,
                     float *lossOut, float *logitsOut, char *err, size_t errcap) {
    GUARD_BEGIN
    if (!m->adam) {
        setErr(err, errcap, "the optimiser is not configured");
        return -1;
    }
    m->net->train();
    torch::Tensor in = input(m, x, b, c, d, h, w);
    torch::Tensor target = torch::from_blob(const_cast<float *>(y), {b, m->classes}, torch::kFloat32).to(m->device);
    m->adam->zero_grad();
    torch::Tensor logits = m->net->forward(in);
    torch::Tensor loss = torch::binary_cross_entropy_with_logits(logits, target);
    loss.backward();
    m->adam->step();
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
    torch::Tensor l = m->net->forward(input(m, x, b, c, d, h, w)).to(torch::kCPU).contiguous();
    std::memcpy(out, l.data_ptr<float>(), sizeof(float) * b * m->classes);
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
};

extern "C" __attribute__((visibility("default"))) const ctorch_api *ctorch_get_api(void) { return &api; }
