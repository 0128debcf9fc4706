"""Generated from proto/taskwire/v1 by scripts/generate.sh; do not edit."""
