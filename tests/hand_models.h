/*
 * hand_models.h - model descriptors written by hand in C, to test what
 * the scalar language cannot express yet: tensor parameters, several
 * input and target columns, class targets and several outputs.
 */
#ifndef DLC_HAND_MODELS_H
#define DLC_HAND_MODELS_H

#include "dlrt.h"

/* Softmax regression: 4 inputs, a class(3) target, 3 outputs (the class
 * probabilities); parameters W[3][4] and b[3]; mean cross-entropy. */
extern const RtModel hand_softmax;

/* Linear regression to two real targets of 2 and 1 columns: 3 inputs,
 * 3 outputs; parameters W[3][3] and b[3]; mean summed squared error. */
extern const RtModel hand_linear;

/* Test hooks: each loss_grad call sleeps this long, and the call whose
 * count reaches hand_interrupt_at sets rt_interrupted. */
extern long hand_slow_us;
extern long hand_interrupt_at, hand_calls;

#endif
