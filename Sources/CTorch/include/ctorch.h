/* Plain C interface over libtorch. The engine (engine/ctorch_engine.cpp) is built by `make torch` into
 * libdicomprep_torch.so and opened with dlopen only by train/predict/evaluate-time code, so the
 * conversion commands never pay libtorch's start-up (~0.9 s, hundreds of shared libraries).
 * Only DicomPrep/Core/TorchEngine.swift calls these functions. */
#ifndef CTORCH_H
#define CTORCH_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define CTORCH_API_VERSION 5

typedef struct ctorch_model ctorch_model;

/* Every function returns 0 on success, or -1 with a message in err. */
typedef struct {
    int version;
    /* The libtorch version the engine was built with, e.g. "1.13.1". */
    const char *(*torch_version)(void);
    int (*set_threads)(int n);
    int (*get_threads)(void);
    int (*cuda_available)(void);
    int (*manual_seed)(uint64_t seed);
    /* arch: resnet10, resnet18, resnet-small; stem stride over (slices, rows, cols). device: "cpu" or "cuda". */
    ctorch_model *(*create)(const char *arch, int in_channels, int num_classes, const int64_t stem_stride[3],
                            const char *device, char *err, size_t errcap);
    void (*destroy)(ctorch_model *m);
    int64_t (*parameter_count)(ctorch_model *m);
    int (*configure_adam)(ctorch_model *m, double lr, double weight_decay, char *err, size_t errcap);
    int (*set_learning_rate)(ctorch_model *m, double lr, char *err, size_t errcap);
    /* x: batch x channels x d x h x w floats; y: batch x num_classes targets. loss_out: mean BCE-with-logits.
     * logits_out (may be NULL): batch x num_classes. */
    int (*train_step)(ctorch_model *m, const float *x, const float *y, int64_t batch, int64_t channels, int64_t d, int64_t h,
                      int64_t w, float *loss_out, float *logits_out, char *err, size_t errcap);
    /* Inference (eval mode, no gradients). */
    int (*predict)(ctorch_model *m, const float *x, int64_t batch, int64_t channels, int64_t d, int64_t h, int64_t w,
                   float *logits_out, char *err, size_t errcap);
    /* The module's parameters and buffers (torch::save; Python: torch.jit.load(p).state_dict()). */
    int (*save_weights)(ctorch_model *m, const char *path, char *err, size_t errcap);
    int (*load_weights)(ctorch_model *m, const char *path, char *err, size_t errcap);
    /* Adam's state, for an exact resume. */
    int (*save_optimizer)(ctorch_model *m, const char *path, char *err, size_t errcap);
    int (*load_optimizer)(ctorch_model *m, const char *path, char *err, size_t errcap);
    /* Names of the state dict entries, '\n'-separated, for checks. */
    int (*state_keys)(ctorch_model *m, char *buf, size_t cap, size_t *needed);
    /* MONAI's UNet(spatial_dims=3, in, out, channels[levels], strides[levels-1], num_res_units, norm "instance"|"batch"). */
    ctorch_model *(*create_unet)(int in_channels, int out_channels, const int64_t *channels, const int64_t *strides, int levels,
                                 int res_units, const char *norm, const char *device, char *err, size_t errcap);
    /* x: batch x channels x d x h x w floats; labels: batch x d x h x w class indices. loss_out: Dice + CE;
     * dice_out (may be NULL): soft Dice per class over the batch. */
    int (*train_step_segment)(ctorch_model *m, const float *x, const uint8_t *labels, int64_t batch, int64_t channels, int64_t d,
                              int64_t h, int64_t w, float *loss_out, float *dice_out, char *err, size_t errcap);
    /* Softmax probabilities, batch x classes x d x h x w (eval mode, no gradients). */
    int (*predict_segment)(ctorch_model *m, const float *x, int64_t batch, int64_t channels, int64_t d, int64_t h, int64_t w,
                           float *probs_out, char *err, size_t errcap);
    /* As train_step_segment with class fractions instead of indices: targets is batch x num_classes x d x h x w
     * floats in 0...1, each voxel's summing to 1 (partial volume); Dice and cross-entropy against them. */
    int (*train_step_segment_soft)(ctorch_model *m, const float *x, const float *targets, int64_t batch, int64_t channels, int64_t d,
                                   int64_t h, int64_t w, float *loss_out, float *dice_out, char *err, size_t errcap);
    /* Compute precision of the segmentation training steps: "float32" (the default) or "bfloat16" (mixed
     * precision on the CPU: the forward pass under autocast, the weights, gradients, optimiser and loss float32). */
    int (*set_precision)(ctorch_model *m, const char *precision, char *err, size_t errcap);
    /* Exponential moving average of the parameters, updated after every optimiser step with decay
     * min(decay, (1 + t) / (10 + t)) at update t: decay in (0, 1) starts it from the current parameters, 0 stops it. */
    int (*set_ema)(ctorch_model *m, double decay, char *err, size_t errcap);
    /* Exchanges the parameters with their average (validate or save the average, then swap back). */
    int (*swap_ema)(ctorch_model *m, char *err, size_t errcap);
    /* The average and its update count (torch::save of a tensor list), for resuming. */
    int (*save_ema)(ctorch_model *m, const char *path, char *err, size_t errcap);
    int (*load_ema)(ctorch_model *m, const char *path, char *err, size_t errcap);
} ctorch_api;

/* Opens the engine library at path and returns its function table, or NULL with err set. */
const ctorch_api *ctorch_load(const char *path, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
