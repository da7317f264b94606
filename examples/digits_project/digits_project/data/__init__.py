"""The project's LightningDataModules."""
