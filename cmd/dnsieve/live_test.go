package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds dnsieve for tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dnsieve")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// netnsPair creates two network namespaces joined by a veth pair, with
// 10.98.0.1 on the client side and 10.98.0.2 on the server side, and
// removes them when the test ends.
func netnsPair(t *testing.T) (client, server, clientIf string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	client, server = "dnsv-c-"+id, "dnsv-s-"+id
	clientIf, serverIf := "dvc"+id, "dvs"+id
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("ip %s: %v: %s (network namespaces unavailable?)", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", client).Run()
		exec.Command("ip", "netns", "del", server).Run()
	})
	run("netns", "add", client)
	run("netns", "add", server)
	run("link", "add", clientIf, "type", "veth", "peer", "name", serverIf)
	run("link", "set", clientIf, "netns", client)
	run("link", "set", serverIf, "netns", server)
	run("-n", client, "addr", "add", "10.98.0.1/24", "dev", clientIf)
	run("-n", server, "addr", "add", "10.98.0.2/24", "dev", serverIf)
	for _, ns := range []string{client, server} {
		run("-n", ns, "link", "set", "lo", "up")
	}
	run("-n", client, "link", "set", clientIf, "up")
	run("-n", server, "link", "set", serverIf, "up")
	return client, server, clientIf
}

// startIn starts a command inside a namespace, killed when the test ends.
func startIn(t *testing.T, ns, logPath string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		logf.Close()
	})
	return cmd
}

// TestLiveIodine runs a real iodine tunnel between two namespaces and
// dnsieve live on the client's interface: a high iodine alert must come
// within 10 seconds of the tunnel's first query, /metrics must count the
// traffic, and SIGTERM must leave findings.jsonl behind.
func TestLiveIodine(t *testing.T) {
	for _, b := range []string{"iodine", "iodined", "curl"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (apt-get install iodine curl)", b)
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	client, server, clientIf := netnsPair(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	alerts := filepath.Join(dir, "alerts.jsonl")
	metrics := "127.0.0.1:19531"
	dn := startIn(t, client, filepath.Join(dir, "dnsieve.log"), bin, "live", "-i", clientIf, "-o", filepath.Join(dir, "out"),
		"--no-state", "--metrics", metrics, "--alerts", "file:"+alerts)
	curl := func(path string) (string, error) {
		out, err := exec.Command("ip", "netns", "exec", client, "curl", "-sf", "--max-time", "2", "http://"+metrics+path).Output()
		return string(out), err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if out, err := curl("/healthz"); err == nil && out == "ok\n" {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dnsieve.log"))
			t.Fatalf("dnsieve live did not come up:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}

	startIn(t, server, filepath.Join(dir, "iodined.log"), "iodined", "-f", "-l", "10.98.0.2", "-P", "dnsieve-test", "10.99.0.1", "t1.tunnel.test")
	time.Sleep(500 * time.Millisecond)
	started := time.Now()
	startIn(t, client, filepath.Join(dir, "iodine.log"), "iodine", "-f", "-r", "-T", "NULL", "-P", "dnsieve-test", "10.98.0.2", "t1.tunnel.test")
	// Push some traffic through the tunnel once it is up.
	go func() {
		for i := 0; i < 40 && time.Since(started) < 20*time.Second; i++ {
			exec.Command("ip", "netns", "exec", client, "ping", "-c", "1", "-W", "1", "-s", "600", "10.99.0.1").Run()
		}
	}()

	var alert map[string]any
	for alert == nil {
		if time.Since(started) > 20*time.Second {
			logs := ""
			for _, f := range []string{"dnsieve.log", "iodine.log", "iodined.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				logs += "== " + f + "\n" + string(b)
			}
			a, _ := os.ReadFile(alerts)
			t.Fatalf("no high alert within 20 s; alerts:\n%s\n%s", a, logs)
		}
		time.Sleep(250 * time.Millisecond)
		f, err := os.Open(alerts)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["dnsieve"].(map[string]any)["severity"] == "high" {
				alert = m
			}
		}
		f.Close()
	}
	ev := alert["event"].(map[string]any)
	first, _ := time.Parse(time.RFC3339Nano, ev["start"].(string))
	at, _ := time.Parse(time.RFC3339Nano, alert["@timestamp"].(string))
	if delay := at.Sub(first); delay > 10*time.Second || delay < 0 {
		t.Errorf("high alert %v after the tunnel's first query (want within 10 s)", delay)
	}
	if sw := alert["threat"].(map[string]any)["software"].(map[string]any)["name"]; sw != "iodine" {
		t.Errorf("tool %v, want iodine", sw)
	}
	if q := alert["dns"].(map[string]any)["question"].(map[string]any)["registered_domain"]; q != "tunnel.test" {
		t.Errorf("registered domain %v", q)
	}

	m, err := curl("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`dnsieve_packets_total`, `dnsieve_dns_messages_total`, `dnsieve_alerts_total{severity="high"}`} {
		re := regexp.MustCompile(regexp.QuoteMeta(want) + ` ([0-9.e+]+)`)
		mm := re.FindStringSubmatch(m)
		if mm == nil {
			t.Errorf("/metrics lacks %s", want)
			continue
		}
		if v, _ := strconv.ParseFloat(mm[1], 64); v < 1 {
			t.Errorf("%s = %s", want, mm[1])
		}
	}
	for _, want := range []string{"dnsieve_kernel_drops_total", "dnsieve_engine_domains", "dnsieve_processing_lag_seconds"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// SIGTERM: findings are written, nothing made is lost.
	syscall.Kill(-dn.Process.Pid, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- dn.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("dnsieve live did not stop on SIGTERM")
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", "findings.jsonl"))
	if err != nil || !strings.Contains(string(b), `"tool":"iodine"`) {
		t.Fatalf("findings.jsonl after SIGTERM: %v\n%s", err, b)
	}
	fmt.Fprintf(os.Stderr, "live iodine alert after %v\n", at.Sub(first))
}
