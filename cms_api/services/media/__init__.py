"""The media library: uploaded images, their renditions, where their files are stored."""
