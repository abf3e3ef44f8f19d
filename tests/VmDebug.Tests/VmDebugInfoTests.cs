using VmDebug.Engine;

namespace VmDebug.Tests;

public class VmDebugInfoTests
{
    [Fact]
    public void EngineReportsItsVersion() => Assert.Matches(@"^\d+\.\d+\.\d+", VmDebugInfo.Version);
}
