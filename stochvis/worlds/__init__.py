"""Worlds: the models and data a story runs in (Fashion-MNIST nets the project trains, the FER
emotion classifier, DCGAN faces). Worlds import methods, never the reverse."""
