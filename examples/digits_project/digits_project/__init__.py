"""An example project trained by trainrig: its own LightningModule and LightningDataModule."""
