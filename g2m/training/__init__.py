"""Training loops: early-stopped fitting with checkpoints (loop, checkpoint), node students
(node_student), link teachers and students (link), adversarial augmentation (adversarial)."""
