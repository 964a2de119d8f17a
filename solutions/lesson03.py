# Lesson 03 solutions. In the notebook: %load ../solutions/lesson03.py
import math

# Exercise 1: u sums to 1 with u >= 0 and every entry of h_t lies in (-1, 1), so u.h_t lies in (-1, 1);
# two weights differ by the factor exp(score_a - score_b) < exp(1 - (-1)).
q002_ceiling = math.exp(1 - (-1))

# Exercise 2: AttentionPooling(units=16) on 32 features has W (32 x 16), b (16) and v (16);
# SeqWeightedAttention has W (32 x 1) and one bias.
attention_pooling_params = 32 * 16 + 16 + 16
seq_weighted_params = 32 + 1
