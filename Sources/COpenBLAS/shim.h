#ifndef DISTILL_COPENBLAS_SHIM_H
#define DISTILL_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
