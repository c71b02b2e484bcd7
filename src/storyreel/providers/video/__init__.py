"""Image-to-video vendors (the ``video`` modality): one module per vendor."""
