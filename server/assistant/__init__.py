"""The RM's assistant (智能助手): today's plan (今日), the pre-visit brief (拜访简报), next best
products (下一个最佳产品) and asking in Chinese (问展业), from the bank's own data."""
