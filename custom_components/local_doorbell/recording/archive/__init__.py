"""Archive: the clips kept on disk, their index and retention."""
