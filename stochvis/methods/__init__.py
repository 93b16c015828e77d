"""Methods built on the one loop and the statistics: feature inversion (``inversion``), stochastic
deconvolution (``deconvolution``), the statistics prior for activation maximisation (``class_prior``),
generator priors for DGN-AM (``generator_prior``) and the channels a group of images excites
(``channel_groups``). Methods know no world: worlds plug into them."""
