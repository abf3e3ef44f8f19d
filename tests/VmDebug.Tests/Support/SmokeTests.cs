using VmDebug.Engine;

namespace VmDebug.Tests.Support;

public class SmokeTests
{
    [Fact]
    public void EngineReportsItsVersion() => Assert.Matches(@"^\d+\.\d+\.\d+", VmDebugInfo.Version);
}
