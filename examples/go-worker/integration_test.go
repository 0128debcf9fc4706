package main

// Integration tests: the real taskwire server (node server/dist/cli/main.js), the real
// worker binary built from this package, and a Go caller speaking TaskRunService.
// They fail, not skip, when node or the server build is missing: run `npx tsc -b` in
// the repository root first.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

var (
	buildOnce   sync.Once
	workerPath  string
	buildErr    error
	binariesDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "go-worker-test-")
	if err != nil {
		panic(err)
	}
	binariesDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a child process whose combined output is scanned line by line.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	output strings.Builder
	lines  chan string
	exited chan struct{}
}

func startProcess(t *testing.T, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	reader, writer := io.Pipe()
	cmd.Stdout = writer
	cmd.Stderr = writer
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 1000), exited: make(chan struct{})}
	go func() {
		scanner := bufio.NewScanner(reader)
		for scanner.Scan() {
			p.mu.Lock()
			p.output.WriteString(scanner.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- scanner.Text():
			default:
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		writer.Close()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// waitFor waits for an output line containing text.
func (p *process) waitFor(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, text) {
				return
			}
		case <-p.exited:
			t.Fatalf("%s exited before printing %q; output:\n%s", p.cmd.Path, text, p.out())
		case <-deadline:
			t.Fatalf("%s did not print %q within %v; output:\n%s", p.cmd.Path, text, timeout, p.out())
		}
	}
}

func (p *process) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// stop sends SIGTERM, then SIGKILL if the process is still there after 10 s.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// startServer starts a taskwire server on a free port with a fresh TASKWIRE_HOME and
// returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, "server", "dist", "cli", "main.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the server build is missing (%v): run `npx tsc -b` in %s first", err, root)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the taskwire server: %v", err)
	}
	port := freePort(t)
	server := startProcess(t, []string{"TASKWIRE_HOME=" + t.TempDir(), "TASKWIRE_LOG_LEVEL=warn"},
		node, cli, "server", "start", "--port", fmt.Sprint(port))
	server.waitFor(t, "listening on", 20*time.Second)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// startWorker builds this package's binary (once) and starts it against the server.
func startWorker(t *testing.T, apiURL string, args ...string) *process {
	t.Helper()
	buildOnce.Do(func() {
		workerPath = filepath.Join(binariesDir, "go-worker")
		out, err := exec.Command("go", "build", "-o", workerPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	worker := startProcess(t, []string{"TASKWIRE_API_URL=" + apiURL}, workerPath, args...)
	worker.waitFor(t, "serving conformance_echo, conformance_sleep, word_count (limit", 10*time.Second)
	return worker
}

func callerClient(t *testing.T, apiURL string) taskwirev1.TaskRunServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(strings.TrimPrefix(apiURL, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return taskwirev1.NewTaskRunServiceClient(conn)
}

func wordCountSpec(params string, options *taskwirev1.TaskRunOptions) *taskwirev1.TaskRunSpec {
	return &taskwirev1.TaskRunSpec{TaskKey: "word_count", Parameters: jsonParams(params), Options: options}
}

func schedule(t *testing.T, client taskwirev1.TaskRunServiceClient, spec *taskwirev1.TaskRunSpec) string {
	t.Helper()
	response, err := client.ScheduleTaskRun(context.Background(), &taskwirev1.ScheduleTaskRunRequest{Run: spec})
	if err != nil {
		t.Fatalf("ScheduleTaskRun: %v", err)
	}
	return response.GetId()
}

func waitFinal(t *testing.T, client taskwirev1.TaskRunServiceClient, id string, timeout time.Duration) *taskwirev1.TaskRun {
	t.Helper()
	response, err := client.WaitTaskRun(context.Background(), &taskwirev1.WaitTaskRunRequest{Id: id, TimeoutMs: uint32(timeout.Milliseconds())})
	if err != nil {
		t.Fatalf("WaitTaskRun(%s): %v", id, err)
	}
	if !response.GetFinal() {
		t.Fatalf("run %s is still %v after %v", id, response.GetTaskRun().GetState(), timeout)
	}
	return response.GetTaskRun()
}

// waitState watches a run until it reaches state.
func waitState(t *testing.T, client taskwirev1.TaskRunServiceClient, id string, state taskwirev1.TaskRunState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.WatchTaskRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&taskwirev1.WatchTaskRunsRequest{RunIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	for {
		response, err := stream.Recv()
		if err != nil {
			t.Fatalf("run %s did not reach %v: %v", id, state, err)
		}
		for _, run := range response.GetTaskRuns() {
			if run.GetState() == state {
				return
			}
		}
	}
}

func getRun(t *testing.T, client taskwirev1.TaskRunServiceClient, id string) *taskwirev1.TaskRun {
	t.Helper()
	response, err := client.GetTaskRun(context.Background(), &taskwirev1.GetTaskRunRequest{Id: id})
	if err != nil {
		t.Fatalf("GetTaskRun(%s): %v", id, err)
	}
	return response.GetTaskRun()
}

func waitExit(t *testing.T, p *process, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("the worker did not exit within %v; output:\n%s", timeout, p.out())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the worker exited with code %d; output:\n%s", code, p.out())
	}
}

func TestIntegrationRunsWordCount(t *testing.T) {
	apiURL := startServer(t)
	startWorker(t, apiURL, "--limit", "2")
	client := callerClient(t, apiURL)

	texts := []string{"one", "two words", "the quick brown fox", "", "a b c d e f g"}
	ids := make([]string, len(texts))
	for i, text := range texts {
		ids[i] = schedule(t, client, wordCountSpec(fmt.Sprintf(`{"args":[%q],"kwargs":{}}`, text), nil))
	}
	for i, id := range ids {
		run := waitFinal(t, client, id, 10*time.Second)
		want := fmt.Sprint(countWords(texts[i]))
		if run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_COMPLETED || string(run.GetResult().GetData()) != want {
			t.Errorf("run %d: %v %s (error %v), want COMPLETED %s", i, run.GetState(), run.GetResult().GetData(), run.GetError(), want)
		}
		if !strings.HasPrefix(run.GetWorkerId(), "go-") {
			t.Errorf("run %d ran on worker %q, want the Go worker", i, run.GetWorkerId())
		}
	}

	logs, err := client.ListTaskRunLogs(context.Background(), &taskwirev1.ListTaskRunLogsRequest{RunId: ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs.GetLines()) != 1 || !strings.Contains(logs.GetLines()[0].GetMessage(), "finished on a Go worker, result 4") {
		t.Errorf("logs of run 2 = %v, want the worker's line", logs.GetLines())
	}
}

func TestIntegrationBadParametersFailWithoutRetry(t *testing.T) {
	apiURL := startServer(t)
	startWorker(t, apiURL)
	client := callerClient(t, apiURL)

	id := schedule(t, client, wordCountSpec(`{"args":[42]}`, &taskwirev1.TaskRunOptions{Retries: 3}))
	run := waitFinal(t, client, id, 10*time.Second)
	if run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_FAILED {
		t.Fatalf("state %v, want FAILED", run.GetState())
	}
	if run.GetError().GetType() != "ParameterError" || !strings.Contains(run.GetError().GetMessage(), `"text" must be a string`) {
		t.Errorf("error %v, want a ParameterError about text", run.GetError())
	}
	if run.GetAttempts() != 1 || run.GetRetriesUsed() != 0 {
		t.Errorf("attempts %d, retries used %d: a non-retryable error must end the run at once", run.GetAttempts(), run.GetRetriesUsed())
	}
}

func TestIntegrationCancelStopsTheRun(t *testing.T) {
	apiURL := startServer(t)
	startWorker(t, apiURL)
	client := callerClient(t, apiURL)

	id := schedule(t, client, wordCountSpec(`{"args":["slow one"],"kwargs":{"delay_ms":60000}}`, nil))
	waitState(t, client, id, taskwirev1.TaskRunState_TASK_RUN_STATE_RUNNING)
	if _, err := client.CancelTaskRun(context.Background(), &taskwirev1.CancelTaskRunRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	// Well before the 30 s lease could run out: only the worker's Failed can end it this soon.
	run := waitFinal(t, client, id, 5*time.Second)
	if run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_CANCELLED || run.GetError().GetType() != "Cancelled" {
		t.Errorf("state %v error %v, want CANCELLED reported by the worker", run.GetState(), run.GetError())
	}
}

func TestIntegrationShutdownFinishesRunsInFlight(t *testing.T) {
	apiURL := startServer(t)
	worker := startWorker(t, apiURL, "--limit", "1")
	client := callerClient(t, apiURL)

	inFlight := schedule(t, client, wordCountSpec(`{"args":["finish me"],"kwargs":{"delay_ms":1500}}`, nil))
	waitState(t, client, inFlight, taskwirev1.TaskRunState_TASK_RUN_STATE_RUNNING)
	queued := schedule(t, client, wordCountSpec(`{"args":["not for this worker"]}`, nil))
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, worker, 8*time.Second)

	if run := getRun(t, client, inFlight); run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_COMPLETED || string(run.GetResult().GetData()) != "2" {
		t.Errorf("the run in flight ended %v %s, want COMPLETED 2", run.GetState(), run.GetResult().GetData())
	}
	// Drain reached the server before the slot freed: the queued run was never assigned.
	if run := getRun(t, client, queued); run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_SCHEDULED || run.GetAttempts() != 0 {
		t.Errorf("the queued run is %v after %d attempts, want SCHEDULED and never started", run.GetState(), run.GetAttempts())
	}
}

func TestIntegrationShutdownReleasesUnfinishedRuns(t *testing.T) {
	apiURL := startServer(t)
	worker := startWorker(t, apiURL, "--grace", "300ms")
	client := callerClient(t, apiURL)

	id := schedule(t, client, wordCountSpec(`{"args":["too slow"],"kwargs":{"delay_ms":60000}}`, nil))
	waitState(t, client, id, taskwirev1.TaskRunState_TASK_RUN_STATE_RUNNING)
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, worker, 5*time.Second)

	run := getRun(t, client, id)
	if run.GetState() != taskwirev1.TaskRunState_TASK_RUN_STATE_SCHEDULED || run.GetRedeliveries() != 0 || run.GetRetriesUsed() != 0 {
		t.Fatalf("run %v, redeliveries %d, retries used %d; want SCHEDULED again, using neither", run.GetState(), run.GetRedeliveries(), run.GetRetriesUsed())
	}
	last := run.GetHistory()[len(run.GetHistory())-1]
	if !strings.Contains(last.GetMessage(), "released by worker go-") {
		t.Errorf("last transition %q, want a release by the Go worker", last.GetMessage())
	}

	// Another worker picks the released run up; it would take 60 s, so cancel it there.
	startWorker(t, apiURL)
	waitState(t, client, id, taskwirev1.TaskRunState_TASK_RUN_STATE_RUNNING)
	if _, err := client.CancelTaskRun(context.Background(), &taskwirev1.CancelTaskRunRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if run := waitFinal(t, client, id, 5*time.Second); run.GetAttempts() != 2 {
		t.Errorf("attempts %d, want 2", run.GetAttempts())
	}
}

func TestIntegrationRefusedHelloIsReported(t *testing.T) {
	apiURL := startServer(t)
	conn, err := dial(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := taskwirev1.NewWorkerServiceClient(conn).SubscribeTaskRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A Heartbeat before Hello: the server must end the stream with FAILED_PRECONDITION.
	if err := stream.Send(&taskwirev1.SubscribeTaskRunsRequest{Message: &taskwirev1.SubscribeTaskRunsRequest_Heartbeat{Heartbeat: &taskwirev1.Heartbeat{}}}); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	if err == nil || !strings.Contains(err.Error(), "FailedPrecondition") || !strings.Contains(err.Error(), "must be Hello") {
		t.Errorf("Recv error %v, want FAILED_PRECONDITION about Hello", err)
	}
}
