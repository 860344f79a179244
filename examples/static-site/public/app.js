document.getElementById("when").textContent = `Rendered at ${new Date().toLocaleString()}.`;
