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

var putCommand = &command{
	name:  "put",
	args:  "PATH VALUE|-",
	short: "write a key, whether or not it exists (etcdctl put)",
	long: `
Writes VALUE, or all of stdin for "-", to the key PATH, creating it or
overwriting it, as etcdctl put does; an existing key loses its lease.
Values are checked and stored as by create (see 'sdpcfg create --help').
Use create or update to fail when the key exists, or does not.

Examples:
  sdpcfg put /notes/greeting --raw 'hello'
  sdpcfg put /pb/pb-1/state '{"status": "RUNNING"}'`,
	newRunner: func(g *globalOptions) runner { return &writeOptions{g: g, name: "put"} },
}
