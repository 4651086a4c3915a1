"""Chat work: the conversation store, presets, attachments, export, and the turns sent to the model."""
