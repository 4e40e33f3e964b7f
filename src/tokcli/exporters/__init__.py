"""Writing the usage store out in other formats (`tokcli export`)."""
