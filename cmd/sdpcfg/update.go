package main

var updateCommand = &command{
	name:  "update",
	args:  "PATH VALUE|-",
	short: "overwrite an existing key",
	long: `
Overwrites the existing key PATH with VALUE, or with all of stdin for "-",
keeping its lease. Fails with exit code 3 if the key does not exist.
Values are checked and stored as by create (see 'sdpcfg create --help').

Examples:
  sdpcfg update /pb/pb-1/state '{"status": "RUNNING"}'
  sdpcfg update --raw /notes/greeting 'hello again'`,
	newRunner: func(g *globalOptions) runner { return &writeOptions{g: g, name: "update"} },
}
