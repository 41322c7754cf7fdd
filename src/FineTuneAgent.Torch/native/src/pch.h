// Precompiled header: the libtorch headers every shim source needs. Compiling them once saves
// ~10 s per source file.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/autograd/variable.h>
#include <cstdint>
#include <string>
#include <vector>
