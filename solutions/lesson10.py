# Lesson 10 solutions. In a notebook: %load ../solutions/lesson10.py

# 10b, exercise 1: one score per (query, key) pair, for every sequence of the batch and every head; float32 takes 4
# bytes. The notebook's sweep: batch 8, one head; T is the sweep's largest length (2048 in a full run).
def predicted_score_bytes(batch, T, heads=1, bytes_per_number=4):
    return batch * heads * T * T * bytes_per_number


# 10a, exercise 1: batch (5, 7, 6) is padded to 8 (24 steps computed, 18 real), batch (12, 30, 9) to 32 (96 computed,
# 51 real): (24 - 18 + 96 - 51) / (24 + 96) = 51 / 120.
bucket_padding = (24 - 18 + 96 - 51) / (24 + 96)


# 10c, exercise 1: 96 / 3 = 32 sequences per device. A device count must divide the global batch (96: 1, 2, 3, 4, 6
# and 8) and the last batch of an epoch, 270 % 96 = 78 (1, 2, 3 and 6 of those).
per_device_batch = 96 // 3
valid_counts = [n for n in range(1, 9) if 96 % n == 0 and (270 % 96) % n == 0]
