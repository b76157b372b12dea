// The translation unit that precompiles <torch/torch.h> for every target (cmake/RaveTargets.cmake).
