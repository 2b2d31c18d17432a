// `cnr init SYNCFD [MNTNSFD USERNS]` as an image of its own: cnr execs it with argv[0] "cnr" and argv[1] "init",
// as it did when it re-executed itself, so native/'s constructor and what ps shows are the same.
return Cnr.Process.Init.Main(args);
