// Package statedir is the layout of a licportal state directory: the names
// of the files in it, creating it with private permissions, replacing files
// atomically and loading the portal's signing key.
package statedir
