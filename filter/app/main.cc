// egressguard: entry point. The CLI lives in filter/app/cli.cc.
int main() { return 0; }
