namespace VmDebug.Engine.CrashConfiguration;

public static class CrashActionNames
{
    public static string ToXml(this CrashAction a) => a switch
    {
        CrashAction.Destroy => "destroy",
        CrashAction.Restart => "restart",
        CrashAction.Preserve => "preserve",
        CrashAction.RenameRestart => "rename-restart",
        CrashAction.CoredumpDestroy => "coredump-destroy",
        _ => "coredump-restart",
    };

    public static string ToXml(this GuestPanicModel m) => m.ToString().ToLowerInvariant();

    /// <summary>libvirt's spelling (coredump-restart) or the enum's name (CoredumpRestart) back to the enum; the CLI takes both.</summary>
    public static CrashAction ParseCrashAction(string text) =>
        TryFromXml(text, out var action) || (Enum.TryParse(text.Trim(), ignoreCase: true, out action) && Enum.IsDefined(action) && !int.TryParse(text, out _))
            ? action
            : throw new VmDebugException("CrashActionInvalid", ErrorKind.InvalidArgument,
                $"'{text}' is not an on_crash action; use one of {string.Join(", ", Enum.GetValues<CrashAction>().Select(a => a.ToXml()))}.", text);

    /// <summary>An &lt;on_crash&gt; value as libvirt writes it.</summary>
    public static bool TryFromXml(string text, out CrashAction action)
    {
        var wanted = text.Trim().ToLowerInvariant();
        foreach (var candidate in Enum.GetValues<CrashAction>())
        {
            if (candidate.ToXml() == wanted)
            {
                action = candidate;
                return true;
            }
        }

        action = default;
        return false;
    }

    /// <summary>A &lt;panic model&gt; as libvirt writes it; a panic device naming no model (or one unknown here) is Auto.</summary>
    public static GuestPanicModel PanicModelFromXml(string? model) =>
        model is not null && Enum.TryParse<GuestPanicModel>(model, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(model, out _)
            ? parsed
            : GuestPanicModel.Auto;

    public static GuestPanicModel ParsePanicModel(string text) =>
        Enum.TryParse<GuestPanicModel>(text.Trim(), ignoreCase: true, out var model) && Enum.IsDefined(model) && !int.TryParse(text, out _)
            ? model
            : throw new VmDebugException("PanicModelInvalid", ErrorKind.InvalidArgument,
                $"'{text}' is not a panic device model; use one of {string.Join(", ", Enum.GetValues<GuestPanicModel>().Select(m => m.ToXml()))}.", text);
}
