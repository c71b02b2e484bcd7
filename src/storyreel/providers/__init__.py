"""Provider adapters: one module per vendor or local engine, resolved by ``vendor:model`` strings."""
