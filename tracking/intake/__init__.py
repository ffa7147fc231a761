"""The public doors of the hotline: the web form (提交诉求) and the progress
lookup (进度查询). Both call the same services as the back office."""
