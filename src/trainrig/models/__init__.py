"""Model builders: plain typed functions of (input_shape, num_classes, options) -> nn.Module."""
