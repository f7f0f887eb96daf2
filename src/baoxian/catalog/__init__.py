"""Product catalogue (产品工厂): products as versioned, validated data."""
