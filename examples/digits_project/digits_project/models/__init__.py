"""The project's LightningModules."""
