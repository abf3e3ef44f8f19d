using VmDebug.Cli;
using VmDebug.Engine;

namespace VmDebug.Tests.FrontEnds;

/// <summary>The one mapping both front ends use: a stop is a stop only when the user's own token asked for it.</summary>
public class FailureClassificationTests
{
    [Fact]
    public void CancellationIsAStopOnlyWhenTheCallerAskedForIt()
    {
        var stopped = FailureClassification.Of(new OperationCanceledException(), stopRequested: true);
        Assert.Equal(("OperationStopped", ErrorKind.OperationStopped), (stopped.ErrorId, stopped.Kind));
        Assert.True(stopped.IsUserStop);

        // A cancellation nobody asked for is the engine's own deadline (CancelAfter, a linked timeout).
        var timedOut = FailureClassification.Of(new OperationCanceledException(), stopRequested: false);
        Assert.Equal(("OperationTimeout", ErrorKind.OperationTimeout), (timedOut.ErrorId, timedOut.Kind));
        Assert.False(timedOut.IsUserStop);

        var timeout = FailureClassification.Of(new TimeoutException("no reply"), stopRequested: true);
        Assert.Equal(("OperationTimeout", ErrorKind.OperationTimeout, "no reply"), (timeout.ErrorId, timeout.Kind, timeout.Message));
    }

    [Fact]
    public void CancellationNoticeKeepsWhatGoesOnAndItsTarget()
    {
        var notice = new CancellationNoticeException("QEMU keeps writing 5 MiB.", "/run/qmp.sock", new CancellationToken(true));
        var failure = FailureClassification.Of(notice, stopRequested: true);
        Assert.Equal(("DumpCancelled", ErrorKind.OperationStopped, "/run/qmp.sock"), (failure.ErrorId, failure.Kind, failure.Target));
        Assert.Contains("QEMU keeps writing 5 MiB.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineErrorsKeepTheirIdKindTargetAndRemedy()
    {
        var remedy = new Remedy("Give {0}.", RemedyTerm.Of(RemedyParameter.Force));
        var engine = new VmDebugException("DumpExists", ErrorKind.ResourceExists, "'/d' exists.", "/d") { Remedy = remedy };
        var failure = FailureClassification.Of(engine, stopRequested: false);
        Assert.Equal(("DumpExists", ErrorKind.ResourceExists, (object?)"/d", "'/d' exists."), (failure.ErrorId, failure.Kind, failure.Target, failure.Message));
        Assert.Same(remedy, failure.Remedy);
        Assert.Equal("Give --force.", failure.Remedy!.Render(CliOutput.CliSpelling));
    }

    [Theory]
    [InlineData(typeof(UnauthorizedAccessException), "AccessDenied", ErrorKind.PermissionDenied)]
    [InlineData(typeof(IOException), "IOError", ErrorKind.WriteError)]
    [InlineData(typeof(FileNotFoundException), "IOError", ErrorKind.WriteError)]
    [InlineData(typeof(InvalidOperationException), "UnexpectedError", ErrorKind.NotSpecified)]
    public void OtherExceptionsMapByType(Type type, string errorId, ErrorKind kind)
    {
        var failure = FailureClassification.Of((Exception)Activator.CreateInstance(type, "why")!, stopRequested: false);
        Assert.Equal((errorId, kind, "why"), (failure.ErrorId, failure.Kind, failure.Message));
    }

    [Fact]
    public void ThrottleDropsReportsInsideTheIntervalButNeverTheLast()
    {
        var passed = new List<string>();
        var progress = new ThrottledProgress(report => passed.Add(report.Status));
        progress.Report(new OperationProgress("dump", "first"));
        progress.Report(new OperationProgress("dump", "too soon"));
        progress.Report(new OperationProgress("dump", "done", Completed: true));
        Assert.Equal(["first", "done"], passed);

        Thread.Sleep(ThrottledProgress.Interval + TimeSpan.FromMilliseconds(50));
        progress.Report(new OperationProgress("dump", "later"));
        Assert.Equal(["first", "done", "later"], passed);
    }
}
