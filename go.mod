module github.com/pathogan-go/pathogan

go 1.26
