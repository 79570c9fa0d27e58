"""A profile's style carried out of the app, and back in: a PEFT folder, an archive, a merged model, a LoRA GGUF
file."""
