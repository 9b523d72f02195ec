// Placeholder replaced by the benchmark (issue 5).
int main() { return 0; }
