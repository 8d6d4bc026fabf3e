"""Publishing destinations. Each one stages a version out of sight, then makes it visible on commit.

All file access goes through tf.io.gfile, so every root may be a local path or a gs:// URI.
"""
