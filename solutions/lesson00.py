# Solutions for lesson 00. Load into a notebook cell with: %load ../solutions/lesson00.py


def padding_fraction(part):
    """Exercise 0.1: the share of padded steps is the share of False entries in the mask."""
    return 1.0 - part.mask.mean()


# my_fraction = padding_fraction(jv.test)
# check_padding_fraction(my_fraction, jv.test)
