"""Pictures: ``display`` turns tensors into images and saves figures, ``figures`` builds the static
figures notebooks save, ``widgets`` wires ipywidgets controls to them."""
